meta:
  id: pe
  title: Windows PE executable, MZ + COFF + optional header + section table (written for Hexmap)
  file-extension: [exe, dll, sys]
  license: MIT
  endian: le
seq:
  - id: mz
    type: mz_header
instances:
  pe:
    pos: mz.ofs_pe
    type: pe_header
types:
  mz_header:
    seq:
      - id: magic
        contents: "MZ"
      - id: bytes_in_last_page
        type: u2
      - id: qty_pages
        type: u2
      - id: qty_relocations
        type: u2
      - id: header_paragraphs
        type: u2
      - id: min_alloc
        type: u2
      - id: max_alloc
        type: u2
      - id: initial_ss
        type: u2
      - id: initial_sp
        type: u2
      - id: checksum
        type: u2
      - id: initial_ip
        type: u2
      - id: initial_cs
        type: u2
      - id: ofs_relocations
        type: u2
      - id: overlay_id
        type: u2
      - id: reserved
        size: 32
      - id: ofs_pe
        type: u4
  pe_header:
    seq:
      - id: signature
        contents: ["PE", 0, 0]
      - id: coff
        type: coff_header
      - id: optional
        size: coff.size_of_optional_header
        type: optional_header
        if: coff.size_of_optional_header > 0
      - id: sections
        type: section
        repeat: expr
        repeat-expr: coff.qty_sections
  coff_header:
    seq:
      - id: machine
        type: u2
        enum: machine
      - id: qty_sections
        type: u2
      - id: time_date_stamp
        type: u4
      - id: ofs_symbol_table
        type: u4
      - id: qty_symbols
        type: u4
      - id: size_of_optional_header
        type: u2
      - id: characteristics
        type: u2
  optional_header:
    seq:
      - id: magic
        type: u2
        enum: pe_format
      - id: major_linker_version
        type: u1
      - id: minor_linker_version
        type: u1
      - id: size_of_code
        type: u4
      - id: size_of_initialized_data
        type: u4
      - id: size_of_uninitialized_data
        type: u4
      - id: address_of_entry_point
        type: u4
      - id: base_of_code
        type: u4
      - id: base_of_data
        type: u4
        if: magic == pe_format::pe32
      - id: image_base
        type:
          switch-on: magic
          cases:
            'pe_format::pe32_plus': u8
            _: u4
      - id: section_alignment
        type: u4
      - id: file_alignment
        type: u4
      - id: major_os_version
        type: u2
      - id: minor_os_version
        type: u2
      - id: major_image_version
        type: u2
      - id: minor_image_version
        type: u2
      - id: major_subsystem_version
        type: u2
      - id: minor_subsystem_version
        type: u2
      - id: win32_version_value
        type: u4
      - id: size_of_image
        type: u4
      - id: size_of_headers
        type: u4
      - id: checksum
        type: u4
      - id: subsystem
        type: u2
        enum: subsystem
      - id: dll_characteristics
        type: u2
      - id: size_of_stack_reserve
        type:
          switch-on: magic
          cases:
            'pe_format::pe32_plus': u8
            _: u4
      - id: size_of_stack_commit
        type:
          switch-on: magic
          cases:
            'pe_format::pe32_plus': u8
            _: u4
      - id: size_of_heap_reserve
        type:
          switch-on: magic
          cases:
            'pe_format::pe32_plus': u8
            _: u4
      - id: size_of_heap_commit
        type:
          switch-on: magic
          cases:
            'pe_format::pe32_plus': u8
            _: u4
      - id: loader_flags
        type: u4
      - id: qty_data_directories
        type: u4
      - id: data_directories
        type: data_directory
        repeat: expr
        repeat-expr: qty_data_directories
  data_directory:
    seq:
      - id: virtual_address
        type: u4
      - id: size
        type: u4
  section:
    seq:
      - id: name
        type: str
        size: 8
        pad-right: 0
        encoding: UTF-8
      - id: virtual_size
        type: u4
      - id: virtual_address
        type: u4
      - id: size_of_raw_data
        type: u4
      - id: pointer_to_raw_data
        type: u4
      - id: pointer_to_relocations
        type: u4
      - id: pointer_to_linenumbers
        type: u4
      - id: qty_relocations
        type: u2
      - id: qty_linenumbers
        type: u2
      - id: characteristics
        type: u4
enums:
  machine:
    0x0: unknown
    0x14c: i386
    0x166: r4000
    0x1c0: arm
    0x1c4: armnt
    0x200: ia64
    0x8664: amd64
    0xaa64: arm64
    0x5064: riscv64
  pe_format:
    0x107: rom_image
    0x10b: pe32
    0x20b: pe32_plus
  subsystem:
    0: unknown
    1: native
    2: windows_gui
    3: windows_cui
    7: posix_cui
    9: windows_ce_gui
    10: efi_application
    11: efi_boot_service_driver
    12: efi_runtime_driver
    13: efi_rom
    14: xbox
    16: windows_boot_application
