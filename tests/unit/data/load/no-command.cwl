cwlVersion: v1.0
class: CommandLineTool
inputs: []
outputs: []
