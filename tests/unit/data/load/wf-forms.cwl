cwlVersion: v1.2
class: Workflow
id: main
inputs:
  - id: "#main/inp"
    type: string
  - id: other
    type: string
outputs:
  final:
    type: File
    outputSource: "#main/second/out"
steps:
  first:
    run: echo.cwl
    in:
      msg: inp
    out: [out]
  second:
    run: "echo.cwl"
    in:
      msg:
        source: [first/out]
        valueFrom: $(self)
      extra: "#main/other"
    out:
      - id: "#main/second/out"
