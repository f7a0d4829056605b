cwlVersion: draft-3
class: CommandLineTool
baseCommand: echo
inputs: []
outputs: []
