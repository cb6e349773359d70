# cmake -DIN=<dictionary.txt> -DOUT=<file.cpp> -P embed_dictionary.cmake
# Writes the dictionary as one raw string literal (the text never contains the delimiter).
file(READ ${IN} text)
string(FIND "${text}" ")gs1dict\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw-string delimiter )gs1dict\"")
endif()
file(WRITE ${OUT}
  "// Generated from scanner/data/gs1-syntax-dictionary.txt by embed_dictionary.cmake.\n"
  "namespace pedigree::scanner::internal {\n"
  "extern const char kGs1SyntaxDictionary[];\n"
  "const char kGs1SyntaxDictionary[] = R\"gs1dict(${text})gs1dict\";\n"
  "}  // namespace pedigree::scanner::internal\n")
