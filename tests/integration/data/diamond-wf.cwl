cwlVersion: v1.2
class: Workflow
inputs:
  text: string
outputs:
  joined:
    type: File
    outputSource: join/out
steps:
  first:
    run: echo-tool.cwl
    in: {message: text}
    out: [out]
  left:
    run: cat-tool.cwl
    in: {files: {source: [first/out], linkMerge: merge_nested}}
    out: [out]
  right:
    run: cat-tool.cwl
    in: {files: {source: [first/out], linkMerge: merge_nested}}
    out: [out]
  join:
    run: cat-tool.cwl
    in:
      files:
        source: [left/out, right/out]
        linkMerge: merge_flattened
    out: [out]
requirements:
  MultipleInputFeatureRequirement: {}
