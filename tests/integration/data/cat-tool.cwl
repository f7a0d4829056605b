cwlVersion: v1.2
class: CommandLineTool
baseCommand: cat
inputs:
  files:
    type: File[]
    inputBinding: {position: 1}
outputs:
  out:
    type: stdout
stdout: cat.txt
