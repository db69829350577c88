// faiss-node 0.5 is written against FAISS 1.7.4, which moved idx_t to namespace scope;
// Debian's FAISS 1.7.3 still declares it inside faiss::Index.
#pragma once
#include <faiss/Index.h>
namespace faiss { using idx_t = Index::idx_t; }
