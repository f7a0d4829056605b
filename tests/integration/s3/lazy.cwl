# When s3:// inputs are downloaded: "first" for step one (which reads its
# contents), "late" only once
# step one (which takes a second) is over, "never" not at all (the only
# step that gets it is skipped), "through" at the end, as it is an output
# itself. tests/integration/test_s3.sh compares the copies' times.
cwlVersion: v1.2
class: Workflow
requirements:
  InlineJavascriptRequirement: {}
inputs:
  first: File
  late: File
  never: File
  through: File
outputs:
  two: {type: File, outputSource: two/out}
  skipped: {type: File?, outputSource: three/out}
  passed: {type: File, outputSource: through}
steps:
  one:
    in: {f: first}
    out: [out]
    run:
      class: CommandLineTool
      # its contents come through loadContents, loaded once the step's
      # copy is made (the start downloads nothing)
      baseCommand: [sh, -c, 'printf %s "$1" >one.txt && sleep 1.1']
      arguments: [{position: 2, valueFrom: $(inputs.f.contents)}]
      inputs:
        f: {type: File, loadContents: true, inputBinding: {position: 1}}
      outputs:
        out: {type: File, outputBinding: {glob: one.txt}}
  two:
    in: {f: late, prev: one/out}
    out: [out]
    run:
      class: CommandLineTool
      baseCommand: [sh, -c, 'cat "$0" "$1" >two.txt']
      inputs:
        f: {type: File, inputBinding: {position: 1}}
        prev: {type: File, inputBinding: {position: 2}}
      outputs:
        out: {type: File, outputBinding: {glob: two.txt}}
  three:
    in: {f: never}
    when: $(1 == 0)
    out: [out]
    run:
      class: CommandLineTool
      baseCommand: [cat]
      stdout: three.txt
      inputs:
        f: {type: File, inputBinding: {position: 1}}
      outputs:
        out: stdout
