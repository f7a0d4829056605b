cwlVersion: v1.2
class: Workflow
inputs:
  x: string
outputs: []
steps:
  y:
    run: echo.cwl
    in:
      msg: nope
    out: [out]
