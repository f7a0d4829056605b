cwlVersion: v1.2
class: CommandLineTool
baseCommand: [wc, -c]
stdin: $(inputs.f.path)
inputs:
  f: File
outputs:
  count: stdout
stdout: count.txt
