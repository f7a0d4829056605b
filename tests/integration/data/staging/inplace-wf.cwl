cwlVersion: v1.2
class: Workflow
doc: InplaceUpdateRequirement makes a writable staged file the original.
inputs: []
outputs:
  orig: {type: File, outputSource: make/out}
steps:
  make:
    in: {}
    out: [out]
    run:
      class: CommandLineTool
      inputs: []
      outputs:
        out: {type: File, outputBinding: {glob: f.txt}}
      arguments: [sh, -c, "echo one > f.txt"]
  update:
    in: {r: make/out}
    out: [out]
    run:
      class: CommandLineTool
      requirements:
        InitialWorkDirRequirement:
          listing: [{entry: $(inputs.r), writable: true}]
        InplaceUpdateRequirement: {inplaceUpdate: true}
      inputs:
        r: File
      outputs:
        out: {type: File, outputBinding: {glob: $(inputs.r.basename)}}
      arguments: [sh, -c, "echo two >> f.txt"]
