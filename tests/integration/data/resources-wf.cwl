#!/usr/bin/env cwl-runner
# Three invocations on the host that each ask for cores and memory (both
# from inputs, so the requirement is an expression) and print when they
# started and ended, a second apart (test_resources.sh).
cwlVersion: v1.2
class: Workflow
requirements:
  ScatterFeatureRequirement: {}
inputs:
  ids: {type: 'int[]', default: [1, 2, 3]}
  cores: {type: float, default: 2}
  ram: {type: int, default: 1}
outputs:
  times:
    type: File[]
    outputSource: timed/out
steps:
  timed:
    scatter: id
    in: {id: ids, cores: cores, ram: ram}
    out: [out]
    run:
      class: CommandLineTool
      requirements:
        ResourceRequirement:
          coresMin: $(inputs.cores)
          ramMin: $(inputs.ram)
      inputs:
        id: int
        cores: float
        ram: int
      baseCommand: [sh, -c, 'date +%s.%N; sleep 1; date +%s.%N']
      stdout: times-$(inputs.id).txt
      outputs:
        out: {type: stdout}
