meta:
  id: zip
  title: ZIP archive, local file headers and central directory (written for Hexmap)
  file-extension: [zip, jar, docx, xlsx, apk]
  license: MIT
  endian: le
doc: |
  Read front to back as "PK" sections. A local file whose sizes are only in a data descriptor
  (flag bit 3 with zero sizes) and ZIP64 sizes are not followed.
seq:
  - id: sections
    type: pk_section
    repeat: eos
types:
  pk_section:
    seq:
      - id: magic
        contents: "PK"
      - id: section_type
        type: u2
        enum: section_type
      - id: body
        type:
          switch-on: section_type
          cases:
            'section_type::central_dir_entry': central_dir_entry
            'section_type::local_file': local_file
            'section_type::end_of_central_dir': end_of_central_dir
            'section_type::data_descriptor': data_descriptor
  local_file:
    seq:
      - id: version
        type: u2
      - id: flags
        type: u2
      - id: compression_method
        type: u2
        enum: compression
      - id: file_mod_time
        type: u2
      - id: file_mod_date
        type: u2
      - id: crc32
        type: u4
      - id: len_body_compressed
        type: u4
      - id: len_body_uncompressed
        type: u4
      - id: len_file_name
        type: u2
      - id: len_extra
        type: u2
      - id: file_name
        type: str
        size: len_file_name
        encoding: UTF-8
      - id: extra
        size: len_extra
      - id: body
        size: len_body_compressed
  central_dir_entry:
    seq:
      - id: version_made_by
        type: u2
      - id: version_needed
        type: u2
      - id: flags
        type: u2
      - id: compression_method
        type: u2
        enum: compression
      - id: file_mod_time
        type: u2
      - id: file_mod_date
        type: u2
      - id: crc32
        type: u4
      - id: len_body_compressed
        type: u4
      - id: len_body_uncompressed
        type: u4
      - id: len_file_name
        type: u2
      - id: len_extra
        type: u2
      - id: len_comment
        type: u2
      - id: disk_number_start
        type: u2
      - id: int_file_attr
        type: u2
      - id: ext_file_attr
        type: u4
      - id: ofs_local_header
        type: u4
      - id: file_name
        type: str
        size: len_file_name
        encoding: UTF-8
      - id: extra
        size: len_extra
      - id: comment
        type: str
        size: len_comment
        encoding: UTF-8
  end_of_central_dir:
    seq:
      - id: disk_of_end_of_central_dir
        type: u2
      - id: disk_of_central_dir
        type: u2
      - id: qty_central_dir_entries_on_disk
        type: u2
      - id: qty_central_dir_entries_total
        type: u2
      - id: len_central_dir
        type: u4
      - id: ofs_central_dir
        type: u4
      - id: len_comment
        type: u2
      - id: comment
        type: str
        size: len_comment
        encoding: UTF-8
  data_descriptor:
    seq:
      - id: crc32
        type: u4
      - id: len_body_compressed
        type: u4
      - id: len_body_uncompressed
        type: u4
enums:
  section_type:
    0x0201: central_dir_entry
    0x0403: local_file
    0x0605: end_of_central_dir
    0x0807: data_descriptor
  compression:
    0: none
    8: deflated
    9: enhanced_deflated
    12: bzip2
    14: lzma
    93: zstandard
    95: xz
    99: aex_encryption
