#include <math.h>
#include <stdio.h>

#include "svg.h"

#define WIDTH 720
#define HEIGHT 440
#define MARGIN 60

static const char *const colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd"};

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

static void header(FILE *out, const char *title)
{
    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "font-family=\"sans-serif\" font-size=\"12\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
            "<text x=\"%d\" y=\"24\" font-size=\"16\">",
            WIDTH, HEIGHT, MARGIN);
    escaped(out, title);
    fprintf(out, "</text>\n<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                 "stroke=\"#888\"/>\n",
            MARGIN, MARGIN, WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN);
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

int svg_line_chart(const char *path, const char *title, const svg_series *series,
                   size_t n_series)
{
    FILE *out = fopen(path, "w");
    if (!out)
        return 0;
    header(out, title);
    size_t epochs = 1;
    for (size_t s = 0; s < n_series; s++)
        epochs = series[s].count > epochs ? series[s].count : epochs;
    for (size_t e = 1; e <= epochs; e++)
        fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%zu</text>\n",
                to_x((double)e, 1.0, epochs > 1 ? (double)epochs : 2.0), HEIGHT - MARGIN + 16, e);
    fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">epoch</text>\n", WIDTH / 2,
            HEIGHT - 20);
    for (size_t s = 0; s < n_series; s++) {
        double low, high;
        range(series[s].values, series[s].count, &low, &high);
        const char *color = colors[s % 4];
        fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color);
        for (size_t e = 0; e < series[s].count; e++)
            if (isfinite(series[s].values[e]))
                fprintf(out, "%.1f,%.1f ",
                        to_x((double)(e + 1), 1.0, epochs > 1 ? (double)epochs : 2.0),
                        to_y(series[s].values[e], low, high));
        fprintf(out, "\"/>\n<text x=\"%zu\" y=\"48\" fill=\"%s\">",
                (size_t)MARGIN + 200 * s, color);
        escaped(out, series[s].name);
        fprintf(out, " (%.4g to %.4g)</text>\n", low, high);
    }
    fputs("</svg>\n", out);
    return fclose(out) == 0;
}

int svg_scatter(const char *path, const char *title, const double *x, const double *y,
                const char *const *labels, size_t n)
{
    FILE *out = fopen(path, "w");
    if (!out)
        return 0;
    header(out, title);
    double x_low, x_high, y_low, y_high;
    range(x, n, &x_low, &x_high);
    range(y, n, &y_low, &y_high);
    for (size_t i = 0; i < n; i++) {
        double px = to_x(x[i], x_low, x_high), py = to_y(y[i], y_low, y_high);
        fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\"/>\n", px, py,
                labels[i] ? "4" : "2", labels[i] ? colors[1] : "#9ab");
        if (labels[i]) {
            fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">", px + 5, py - 4);
            escaped(out, labels[i]);
            fputs("</text>\n", out);
        }
    }
    fputs("</svg>\n", out);
    return fclose(out) == 0;
}
