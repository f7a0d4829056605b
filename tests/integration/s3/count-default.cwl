# count.cwl with an s3:// default for its input (see stepdef.cwl).
cwlVersion: v1.2
class: CommandLineTool
baseCommand: [wc, -c]
stdin: $(inputs.f.path)
inputs:
  f:
    type: File
    default: {class: File, location: "s3://cwld-in/def/tool.txt"}
outputs:
  count: stdout
stdout: tool-count.txt
