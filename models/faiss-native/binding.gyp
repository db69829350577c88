{
  "targets": [{
    "target_name": "faiss-node",
    "sources": ["src/faiss.cc"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "<(module_root_dir)/shim"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
    "cflags_cc": ["-std=c++17", "-fexceptions", "-fopenmp", "-O2", "-include", "idx_shim.h"],
    "defines": ["NAPI_VERSION=6", "NAPI_CPP_EXCEPTIONS"],
    "libraries": ["/usr/lib/x86_64-linux-gnu/libfaiss.a", "-lblas", "-llapack", "-lgomp"]
  }]
}
