#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svg.h"

#define WIDTH 720
#define HEIGHT 440
#define MARGIN 60
/* line charts: room for the title above the panels, tick labels below,
 * and a gap between panels for the upper one's epoch labels */
#define TOP 40
#define BOTTOM 44
#define GAP 34

/* one colour per series: 2 losses and up to 8 metrics (matplotlib's tab10) */
static const char *const colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                                     "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
#define N_COLORS (sizeof colors / sizeof colors[0])

static void escaped(FILE *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '<')
            fputs("&lt;", out);
        else if (*p == '>')
            fputs("&gt;", out);
        else if (*p == '&')
            fputs("&amp;", out);
        else
            fputc(*p, out);
    }
}

/* The document, its view box, a white page and the title. */
static void header(FILE *out, const char *title)
{
    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
            "<text x=\"%d\" y=\"24\" font-size=\"16\">",
            WIDTH, HEIGHT, WIDTH, HEIGHT, MARGIN);
    escaped(out, title);
    fputs("</text>\n", out);
}

static void range(const double *values, size_t n, double *low, double *high)
{
    *low = INFINITY;
    *high = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (isfinite(values[i])) {
            *low = values[i] < *low ? values[i] : *low;
            *high = values[i] > *high ? values[i] : *high;
        }
    if (!(*high > *low)) {
        *low = isfinite(*low) ? *low - 1.0 : 0.0;
        *high = *low + 2.0;
    }
}

static double to_x(double value, double low, double high)
{
    return MARGIN + (value - low) / (high - low) * (WIDTH - 2 * MARGIN);
}

static double to_y(double value, double low, double high)
{
    return HEIGHT - MARGIN - (value - low) / (high - low) * (HEIGHT - 2 * MARGIN);
}

/* A round step for about `wanted` ticks over [low, high]: 1, 2 or 5 x 10^n. */
static double tick_step(double low, double high, int wanted)
{
    double raw = (high - low) / wanted, power = pow(10.0, floor(log10(raw)));
    double fraction = raw / power;
    return (fraction <= 1.0 ? 1.0 : fraction <= 2.0 ? 2.0 : fraction <= 5.0 ? 5.0 : 10.0) * power;
}

/* The range of every series of a panel, widened to whole ticks. */
static void panel_range(const svg_panel *panel, double *low, double *high, double *step)
{
    *low = INFINITY;
    *high = -INFINITY;
    for (size_t s = 0; s < panel->n_series; s++)
        for (size_t e = 0; e < panel->series[s].count; e++) {
            double value = panel->series[s].values[e];
            if (isfinite(value)) {
                *low = value < *low ? value : *low;
                *high = value > *high ? value : *high;
            }
        }
    if (!isfinite(*low)) {
        *low = 0.0;
        *high = 1.0;
    }
    if (!(*high > *low)) { /* one value: a band around it */
        double pad = fabs(*low) > 0.0 ? fabs(*low) * 0.1 : 0.5;
        *low -= pad;
        *high += pad;
    }
    *step = tick_step(*low, *high, 5);
    *low = floor(*low / *step) * *step;
    *high = ceil(*high / *step) * *step;
}

/* Panel p of n_panels: its frame's top and bottom, in pixels. */
static void panel_frame(size_t p, size_t n_panels, double *top, double *bottom)
{
    double height = (double)(HEIGHT - TOP - BOTTOM - (n_panels - 1) * GAP) / (double)n_panels;
    *top = TOP + (double)p * (height + GAP);
    *bottom = *top + height;
}

static double x_of(size_t epoch, size_t epochs)
{
    /* one epoch sits in the middle */
    return epochs == 1
               ? MARGIN + (WIDTH - 2.0 * MARGIN) / 2.0
               : MARGIN + (double)(epoch - 1) / (double)(epochs - 1) * (WIDTH - 2.0 * MARGIN);
}

static void draw_panel(FILE *out, const svg_panel *panel, size_t p, size_t n_panels, size_t epochs,
                       size_t color_base)
{
    double top, bottom, low, high, step;
    panel_frame(p, n_panels, &top, &bottom);
    panel_range(panel, &low, &high, &step);
    /* headroom for the legend: whole ticks above the data */
    double legend = 16.0 * (double)panel->n_series + 10.0, height = bottom - top;
    high = low + ceil((high - low) * height / (height - legend) / step - 1e-9) * step;
    fprintf(out,
            "<rect class=\"frame\" x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" "
            "fill=\"none\" stroke=\"#888\"/>\n",
            MARGIN, top, WIDTH - 2 * MARGIN, bottom - top);
    for (double tick = low; tick <= high + step / 2; tick += step) {
        double y = bottom - (tick - low) / (high - low) * (bottom - top);
        fprintf(out, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n",
                MARGIN, WIDTH - MARGIN, y, y);
        fprintf(out, "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                MARGIN - 6, y + 4, fabs(tick) < step / 1e6 ? 0.0 : tick);
    }
    fprintf(out,
            "<text class=\"axis\" transform=\"translate(16,%.1f) rotate(-90)\" "
            "text-anchor=\"middle\">",
            (top + bottom) / 2);
    escaped(out, panel->y_label);
    fputs("</text>\n", out);
    size_t every = epochs <= 10 ? 1 : (size_t)tick_step(1.0, (double)epochs, 8);
    for (size_t e = 1; e <= epochs; e++)
        if (e == 1 || e % every == 0)
            fprintf(out,
                    "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%zu"
                    "</text>\n",
                    x_of(e, epochs), bottom + 16, e);
    for (size_t s = 0; s < panel->n_series; s++) {
        const svg_series *series = &panel->series[s];
        const char *color = colors[(color_base + s) % N_COLORS];
        fprintf(out, "<g class=\"series\" fill=\"%s\" stroke=\"%s\">\n", color, color);
        if (series->count > 1) {
            fputs("<polyline fill=\"none\" stroke-width=\"2\" points=\"", out);
            for (size_t e = 0; e < series->count; e++)
                if (isfinite(series->values[e]))
                    fprintf(out, "%.1f,%.1f ", x_of(e + 1, epochs),
                            bottom - (series->values[e] - low) / (high - low) * (bottom - top));
            fputs("\"/>\n", out);
        }
        for (size_t e = 0; e < series->count; e++)
            if (isfinite(series->values[e]))
                fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\"/>\n", x_of(e + 1, epochs),
                        bottom - (series->values[e] - low) / (high - low) * (bottom - top));
        fputs("</g>\n", out);
        /* the legend, inside the frame's top right corner, on white */
        double legend_y = top + 16 + 16.0 * (double)s;
        if (s == 0)
            fprintf(out,
                    "<rect x=\"%d\" y=\"%.1f\" width=\"150\" height=\"%.1f\" fill=\"white\" "
                    "fill-opacity=\"0.85\"/>\n",
                    WIDTH - MARGIN - 154, top + 3, 16.0 * (double)panel->n_series + 4);
        fprintf(out,
                "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                "stroke-width=\"2\"/>\n<text class=\"legend\" x=\"%d\" y=\"%.1f\" "
                "text-anchor=\"end\">",
                WIDTH - MARGIN - 26, WIDTH - MARGIN - 8, legend_y - 4, legend_y - 4, color,
                WIDTH - MARGIN - 32, legend_y);
        escaped(out, series->name);
        fputs("</text>\n", out);
    }
}

int svg_line_chart(const char *path, const char *title, const svg_panel *panels, size_t n_panels)
{
    FILE *out = fopen(path, "w");
    if (!out)
        return 0;
    header(out, title);
    size_t epochs = 1, colors_used = 0;
    for (size_t p = 0; p < n_panels; p++)
        for (size_t s = 0; s < panels[p].n_series; s++)
            epochs = panels[p].series[s].count > epochs ? panels[p].series[s].count : epochs;
    for (size_t p = 0; p < n_panels; p++) {
        draw_panel(out, &panels[p], p, n_panels, epochs, colors_used);
        colors_used += panels[p].n_series;
    }
    fprintf(out, "<text class=\"axis\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">epoch</text>\n",
            WIDTH / 2, HEIGHT - 12);
    fputs("</svg>\n", out);
    return fclose(out) == 0;
}

/* A label's box on the page. */
typedef struct box {
    double left, top, right, bottom;
} box;

static int overlaps(const box *a, const box *b)
{
    return a->left < b->right && b->left < a->right && a->top < b->bottom && b->top < a->bottom;
}

/* Where a label of `width` pixels goes near its point (px, py): the first of
 * rings of candidate places, nearest first, inside the frame and clear of
 * the labels placed before it (and of the legend, placed first). */
static box place_label(double px, double py, double width, const box *placed, size_t n_placed,
                       const box *frame)
{
    static const double directions[8][2] = {{1, -1}, {1, 1},  {-1, -1}, {-1, 1},
                                            {1, 0},  {-1, 0}, {0, -1},  {0, 1}};
    box best = {px + 6, py - 16, px + 6 + width, py - 4};
    for (int ring = 0; ring < 12; ring++) {
        double distance = 6.0 + 14.0 * ring;
        for (int d = 0; d < 8; d++) {
            double dx = directions[d][0], dy = directions[d][1];
            double left = dx > 0 ? px + distance : dx < 0 ? px - distance - width : px - width / 2;
            double top = dy < 0 ? py - distance - 12 : dy > 0 ? py + distance : py - 6;
            box candidate = {left, top, left + width, top + 12};
            int free = candidate.left >= frame->left && candidate.right <= frame->right &&
                       candidate.top >= frame->top && candidate.bottom <= frame->bottom;
            for (size_t i = 0; i < n_placed && free; i++)
                free = !overlaps(&candidate, &placed[i]);
            if (free)
                return candidate;
        }
    }
    return best;
}

/* Round ticks over a range that holds every value, a little wider. */
static void axis_range(const double *values, size_t n, double *low, double *high, double *step)
{
    range(values, n, low, high);
    double pad = (*high - *low) * 0.04;
    *low -= pad;
    *high += pad;
    *step = tick_step(*low, *high, 6);
    *low = floor(*low / *step) * *step;
    *high = ceil(*high / *step) * *step;
}

static void draw_axes(FILE *out, const char *x_label, const char *y_label, double x_low,
                      double x_high, double x_step, double y_low, double y_high, double y_step)
{
    for (double tick = x_low; tick <= x_high + x_step / 2; tick += x_step) {
        double px = to_x(tick, x_low, x_high);
        fprintf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#eee\"/>\n", px,
                px, MARGIN, HEIGHT - MARGIN);
        fprintf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n",
                px, HEIGHT - MARGIN + 16, fabs(tick) < x_step / 1e6 ? 0.0 : tick);
    }
    for (double tick = y_low; tick <= y_high + y_step / 2; tick += y_step) {
        double py = to_y(tick, y_low, y_high);
        fprintf(out, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n",
                MARGIN, WIDTH - MARGIN, py, py);
        fprintf(out, "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                MARGIN - 6, py + 4, fabs(tick) < y_step / 1e6 ? 0.0 : tick);
    }
    fprintf(out, "<text class=\"axis\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">", WIDTH / 2,
            HEIGHT - 14);
    escaped(out, x_label);
    fprintf(out,
            "</text>\n<text class=\"axis\" transform=\"translate(16,%d) rotate(-90)\" "
            "text-anchor=\"middle\">",
            HEIGHT / 2);
    escaped(out, y_label);
    fputs("</text>\n", out);
}

/* Writes a label, cut to 36 characters (UTF-8 aware) with an ellipsis. */
static size_t write_label(FILE *out, const char *text)
{
    size_t characters = 0;
    const char *p = text;
    for (; *p && characters < 36; p++)
        characters += ((unsigned char)*p & 0xc0) != 0x80;
    while (((unsigned char)*p & 0xc0) == 0x80) /* finish the last character */
        p++;
    char cut[256];
    size_t length = (size_t)(p - text) < sizeof cut - 4 ? (size_t)(p - text) : sizeof cut - 4;
    memcpy(cut, text, length);
    strcpy(cut + length, *p ? "\xe2\x80\xa6" : "");
    escaped(out, cut);
    return characters + (*p != '\0');
}

int svg_scatter(const char *path, const char *title, const char *x_label, const char *y_label,
                const double *x, const double *y, const char *const *labels,
                const unsigned char *roles, size_t n)
{
    static const char *const fills[3] = {"#b8c4cc", "#1f77b4", "#d62728"};
    static const char *const names[3] = {"other items", "nearest", "query"};
    box *placed = malloc((2 * n + 1) * sizeof *placed);
    FILE *out = placed ? fopen(path, "w") : NULL;
    if (!out) {
        free(placed);
        return 0;
    }
    header(out, title);
    fprintf(out,
            "<rect class=\"frame\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
            "fill=\"none\" stroke=\"#888\"/>\n",
            MARGIN, MARGIN, WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN);
    double x_low, x_high, x_step, y_low, y_high, y_step;
    axis_range(x, n, &x_low, &x_high, &x_step);
    axis_range(y, n, &y_low, &y_high, &y_step);
    draw_axes(out, x_label, y_label, x_low, x_high, x_step, y_low, y_high, y_step);
    /* points: others under neighbours under the query */
    for (int role = SVG_OTHER; role <= SVG_QUERY; role++)
        for (size_t i = 0; i < n; i++)
            if (roles[i] == role)
                fprintf(
                    out,
                    "<circle class=\"point\" cx=\"%.1f\" cy=\"%.1f\" r=\"%d\" fill=\"%s\"%s/>\n",
                    to_x(x[i], x_low, x_high), to_y(y[i], y_low, y_high),
                    role == SVG_QUERY       ? 6
                    : role == SVG_NEIGHBOUR ? 4
                                            : 2,
                    fills[role], role == SVG_QUERY ? " stroke=\"black\"" : "");
    /* the legend, top right inside the frame, is the first box to avoid */
    box frame = {MARGIN + 2, MARGIN + 2, WIDTH - MARGIN - 2, HEIGHT - MARGIN - 2};
    placed[0] = (box){WIDTH - MARGIN - 118, MARGIN + 4, WIDTH - MARGIN - 4, MARGIN + 56};
    fprintf(out,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"114\" height=\"52\" fill=\"white\" "
            "fill-opacity=\"0.9\" stroke=\"#ccc\"/>\n",
            placed[0].left, placed[0].top);
    for (int role = SVG_QUERY; role >= SVG_OTHER; role--) {
        double ly = placed[0].top + 14 + 16.0 * (SVG_QUERY - role);
        fprintf(out,
                "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>\n<text class=\"legend\" "
                "x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                placed[0].left + 12, ly - 4, fills[role], placed[0].left + 22, ly, names[role]);
    }
    /* the highlighted points are obstacles too: no label covers them */
    size_t n_placed = 1;
    for (size_t i = 0; i < n; i++)
        if (roles[i] != SVG_OTHER) {
            double px = to_x(x[i], x_low, x_high), py = to_y(y[i], y_low, y_high);
            placed[n_placed++] = (box){px - 7, py - 7, px + 7, py + 7};
        }
    for (int role = SVG_QUERY; role >= SVG_OTHER; role--)
        for (size_t i = 0; i < n; i++) {
            if (roles[i] != role || !labels[i])
                continue;
            double px = to_x(x[i], x_low, x_high), py = to_y(y[i], y_low, y_high);
            size_t characters = 0;
            for (const char *p = labels[i]; *p && characters < 37; p++)
                characters += ((unsigned char)*p & 0xc0) != 0x80;
            box at = place_label(px, py, 6.6 * (double)characters, placed, n_placed, &frame);
            placed[n_placed++] = at;
            double ax = at.left > px ? at.left : at.right < px ? at.right : px;
            double ay = at.top > py ? at.top : at.bottom < py ? at.bottom : py;
            if (fabs(ax - px) + fabs(ay - py) > 12)
                fprintf(out,
                        "<line class=\"leader\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                        "stroke=\"#999\"/>\n",
                        px, py, ax, ay);
            fprintf(out, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\"%s>", at.left, at.bottom - 2,
                    role == SVG_QUERY ? " font-weight=\"bold\" fill=\"#d62728\"" : "");
            write_label(out, labels[i]);
            fputs("</text>\n", out);
        }
    fputs("</svg>\n", out);
    free(placed);
    return fclose(out) == 0;
}
