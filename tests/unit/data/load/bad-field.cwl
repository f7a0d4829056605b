cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs: []
outputs: []
colour: blue
ext:thing: fine
