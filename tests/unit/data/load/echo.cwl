cwlVersion: v1.2
class: CommandLineTool
baseCommand: [echo]
inputs:
  msg: Any
  extra: string?
outputs:
  out: stdout
