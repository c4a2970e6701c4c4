/* reco: small SVG charts (line charts, labelled scatter plots). */
#ifndef RECO_CLI_SVG_H
#define RECO_CLI_SVG_H

#include <stddef.h>

typedef struct svg_series {
    const char *name;
    const double *values; /* one per epoch; NaN leaves a gap */
    size_t count;
} svg_series;

/* One panel of a line chart: series that share its y axis. */
typedef struct svg_panel {
    const char *y_label;
    const svg_series *series;
    size_t n_series;
} svg_panel;

/* Writes panels stacked, each with its own y axis (round ticks), against
 * epochs 1..count (a single epoch as points), legends inside the frames.
 * Returns 0 on I/O failure. */
int svg_line_chart(const char *path, const char *title, const svg_panel *panels, size_t n_panels);

/* Writes a scatter plot of n points; labels[i] may be NULL (no label). */
int svg_scatter(const char *path, const char *title, const double *x, const double *y,
                const char *const *labels, size_t n);

#endif
