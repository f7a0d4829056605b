cwlVersion: v1.2
class: Workflow
inputs: []
outputs: []
steps:
  a:
    run: echo.cwl
    in:
      msg: b/out
    out: [out]
  b:
    run: echo.cwl
    in:
      msg: a/out
    out: [out]
