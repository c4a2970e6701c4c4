/* reco: small SVG charts (line charts, labelled scatter plots). */
#ifndef RECO_CLI_SVG_H
#define RECO_CLI_SVG_H

#include <stddef.h>

typedef struct svg_series {
    const char *name;
    const double *values; /* one per epoch; NaN leaves a gap */
    size_t count;
} svg_series;

/* Writes a line chart of the series against epochs 1..count, each series
 * scaled to its own range (the legend gives it). Returns 0 on I/O failure. */
int svg_line_chart(const char *path, const char *title, const svg_series *series,
                   size_t n_series);

/* Writes a scatter plot of n points; labels[i] may be NULL (no label). */
int svg_scatter(const char *path, const char *title, const double *x, const double *y,
                const char *const *labels, size_t n);

#endif
