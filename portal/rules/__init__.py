"""Pure rules: datapack documents, links, files, datatypes and settings, with no Flask, HTTP or repovizz2 in them."""
