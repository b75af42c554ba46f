"""What runs mean: paired comparisons with intervals, distributional cost-effectiveness,
tables, figures, the codebook of every output column, scenario discovery (PRIM) and the EMA
workbench adaptor. Reads run summaries; builds no files of its own."""
