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

/* What a point of a scatter plot is. */
typedef enum svg_role { SVG_OTHER = 0, SVG_NEIGHBOUR = 1, SVG_QUERY = 2 } svg_role;

/* A scatter plot: axes with round ticks and titles, the points (others
 * small and grey, neighbours blue, the query large and red), their labels
 * (labels[i], NULL for none; the query's first, then in order) placed
 * where they overlap no other label, with a leader line when moved away
 * from their point, and a legend. Everything stays inside the view box.
 * Returns 0 on I/O failure or out of memory. */
int svg_scatter(const char *path, const char *title, const char *x_label, const char *y_label,
                const double *x, const double *y, const char *const *labels,
                const unsigned char *roles, size_t n);

#endif
