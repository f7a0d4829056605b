# A Directory output with a sub-directory, an empty one and a name with a
# space, and a File beside it: tests/integration/test_s3.sh sends its
# outputs to S3 (--output-location, output_location).
cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'mkdir -p out/sub out/empty && printf one > out/1.txt && printf two > "out/sub/2 two.txt" && printf top > top.txt']
inputs: []
outputs:
  d: {type: Directory, outputBinding: {glob: out}}
  f: {type: File, outputBinding: {glob: top.txt}}
