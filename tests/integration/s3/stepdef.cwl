# A step whose input has an s3:// default (its "in" entry's), and two steps
# running the same tool whose own input has one (the loader shares that
# tool between them): cwld fetches both objects once, before the first
# step (tests/integration/test_s3.sh).
cwlVersion: v1.2
class: Workflow
inputs: []
outputs:
  from_in: {type: File, outputSource: in_default/count}
  from_tool: {type: File, outputSource: tool_default/count}
steps:
  in_default:
    run: count.cwl
    in:
      f: {default: {class: File, location: "s3://cwld-in/def/in.txt"}}
    out: [count]
  tool_default:
    run: count-default.cwl
    in: {}
    out: [count]
  tool_default_again:
    run: count-default.cwl
    in: {}
    out: [count]
