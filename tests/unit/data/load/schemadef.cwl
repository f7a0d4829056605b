cwlVersion: v1.2
class: CommandLineTool
requirements:
  SchemaDefRequirement:
    types:
      - $import: types.yml
      - name: Local
        type: record
        fields:
          value: int
arguments: [echo]
inputs:
  p: types.yml#Pair
  l: "#Local"
  ls: Local[]
outputs: []
