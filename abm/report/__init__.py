"""Reports of a results folder: a self-contained HTML page and its Markdown twin, every table
and figure with its citation id, from the folder's checksummed parts."""
