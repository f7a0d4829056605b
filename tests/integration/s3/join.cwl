cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'cat "$0" "$1" > joined.txt; (cd "$2" && find . -type f | sort) > listing.txt']
inputs:
  a: {type: File, inputBinding: {position: 1}}
  b: {type: File, inputBinding: {position: 2}}
  d: {type: Directory, inputBinding: {position: 3}}
outputs:
  joined: {type: File, outputBinding: {glob: joined.txt}}
  listing: {type: File, outputBinding: {glob: listing.txt}}
