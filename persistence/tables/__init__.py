"""Reading the files people upload: CSV, JSON and NPZ, into tables.

Each format gives rows of cells; ``profile`` decides each column's kind and
gathers what the dataset page shows; ``build`` turns the rows into a
``core.table.Table`` and a target array for training. Errors are
``TableError``s that name the line, column and value.
"""
