# Two inputs read from a bucket by two steps, and a Directory (a prefix):
# tests/integration/test_s3.sh runs it with s3:// locations.
cwlVersion: v1.2
class: Workflow
inputs:
  a: File
  b: File
  d: Directory
outputs:
  joined: {type: File, outputSource: join/joined}
  listing: {type: File, outputSource: join/listing}
  count: {type: File, outputSource: count/count}
steps:
  join:
    run: join.cwl
    in: {a: a, b: b, d: d}
    out: [joined, listing]
  count:
    run: count.cwl
    in: {f: a}
    out: [count]
