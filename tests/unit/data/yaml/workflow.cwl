cwlVersion: v1.2
class: Workflow
inputs:
  reads:
    type: File
    doc: "quoted: not a mapping"
outputs: []
steps:
  align:
    run: align.cwl
    in:
      - id: reads
        source: reads
    out: [bam, log]
