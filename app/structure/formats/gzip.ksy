meta:
  id: gzip
  title: gzip stream, one member (RFC 1952; written for Hexmap)
  file-extension: gz
  license: MIT
  endian: le
seq:
  - id: magic
    contents: [0x1f, 0x8b]
  - id: compression_method
    type: u1
    enum: compression_methods
  - id: flags
    type: flags
  - id: mod_time
    type: u4
  - id: extra_flags
    type: u1
  - id: os
    type: u1
    enum: oses
  - id: extras
    type: extras
    if: flags.has_extra
  - id: name
    type: strz
    encoding: ISO-8859-1
    if: flags.has_name
  - id: comment
    type: strz
    encoding: ISO-8859-1
    if: flags.has_comment
  - id: header_crc16
    type: u2
    if: flags.has_header_crc
  - id: body
    size: _io.size - _io.pos - 8
  - id: body_crc32
    type: u4
  - id: len_uncompressed
    type: u4
types:
  flags:
    seq:
      - id: reserved
        type: b3
      - id: has_comment
        type: b1
      - id: has_name
        type: b1
      - id: has_extra
        type: b1
      - id: has_header_crc
        type: b1
      - id: is_text
        type: b1
  extras:
    seq:
      - id: len_subfields
        type: u2
      - id: subfields
        size: len_subfields
enums:
  compression_methods:
    8: deflate
  oses:
    0: fat
    1: amiga
    2: vms
    3: unix
    4: vm_cms
    5: atari_tos
    6: hpfs
    7: macintosh
    8: z_system
    9: cp_m
    10: tops_20
    11: ntfs
    12: qdos
    13: acorn_riscos
    255: unknown
