// placeholder.cpp: keeps the static library non-empty until its first sources land; delete then.
