/* Two-dimensional pictures of embeddings: the principal plane (power
 * iteration with deflation on the covariance) and exact t-SNE. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "projection.h"

int projection_pca(const float *rows, size_t n, size_t dim, double *x, double *y, double shares[2])
{
    double *mean = calloc(dim, sizeof *mean), *covariance = calloc(dim * dim, sizeof *covariance);
    double *axes = calloc(2 * dim, sizeof *axes), *next = calloc(dim, sizeof *next);
    if (!mean || !covariance || !axes || !next) {
        free(mean), free(covariance), free(axes), free(next);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < dim; a++)
            mean[a] += rows[i * dim + a] / (double)n;
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < dim; a++)
            for (size_t b = 0; b < dim; b++)
                covariance[a * dim + b] +=
                    (rows[i * dim + a] - mean[a]) * (rows[i * dim + b] - mean[b]);
    double total = 0.0;
    for (size_t a = 0; a < dim; a++)
        total += covariance[a * dim + a];
    for (int axis = 0; axis < 2; axis++) {
        double *v = axes + axis * dim, norm = 0.0;
        for (size_t a = 0; a < dim; a++)
            v[a] = 1.0 + 0.1 * (double)a;
        for (int round = 0; round < 200; round++) {
            norm = 0.0;
            for (size_t a = 0; a < dim; a++) {
                next[a] = 0.0;
                for (size_t b = 0; b < dim; b++)
                    next[a] += covariance[a * dim + b] * v[b];
            }
            if (axis == 1) { /* stay orthogonal to the first axis */
                double along = 0.0;
                for (size_t a = 0; a < dim; a++)
                    along += next[a] * axes[a];
                for (size_t a = 0; a < dim; a++)
                    next[a] -= along * axes[a];
            }
            for (size_t a = 0; a < dim; a++)
                norm += next[a] * next[a];
            norm = sqrt(norm) > 0.0 ? sqrt(norm) : 1.0;
            for (size_t a = 0; a < dim; a++)
                v[a] = next[a] / norm;
        }
        shares[axis] = total > 0.0 ? norm / total : 0.0; /* the eigenvalue's share */
    }
    for (size_t i = 0; i < n; i++) {
        x[i] = y[i] = 0.0;
        for (size_t a = 0; a < dim; a++) {
            x[i] += (rows[i * dim + a] - mean[a]) * axes[a];
            y[i] += (rows[i * dim + a] - mean[a]) * axes[dim + a];
        }
    }
    free(mean), free(covariance), free(axes), free(next);
    return 1;
}

/* Squared distances between the normalized rows (cosine geometry). */
static void cosine_distances(const float *rows, size_t n, size_t dim, double *distances)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = i; j < n; j++) {
            double dot = 0.0, a = 0.0, b = 0.0;
            for (size_t d = 0; d < dim; d++) {
                dot += (double)rows[i * dim + d] * rows[j * dim + d];
                a += (double)rows[i * dim + d] * rows[i * dim + d];
                b += (double)rows[j * dim + d] * rows[j * dim + d];
            }
            double cosine = a > 0.0 && b > 0.0 ? dot / sqrt(a * b) : 0.0;
            distances[i * n + j] = distances[j * n + i] = i == j ? 0.0 : 2.0 - 2.0 * cosine;
        }
}

/* Row i of the conditional affinities p(j|i), by bisection on the
 * Gaussian's precision until its entropy is log(perplexity). */
static void affinities_of(const double *distances, size_t n, size_t i, double perplexity,
                          double *row)
{
    double low = 0.0, high = INFINITY, beta = 1.0, target = log(perplexity);
    for (int round = 0; round < 64; round++) {
        double sum = 0.0, weighted = 0.0;
        for (size_t j = 0; j < n; j++) {
            row[j] = j == i ? 0.0 : exp(-beta * distances[i * n + j]);
            sum += row[j];
            weighted += row[j] * distances[i * n + j];
        }
        if (sum <= 0.0)
            sum = 1e-300;
        double entropy = log(sum) + beta * weighted / sum;
        for (size_t j = 0; j < n; j++)
            row[j] /= sum;
        if (fabs(entropy - target) < 1e-5)
            break;
        if (entropy > target) {
            low = beta;
            beta = isinf(high) ? beta * 2.0 : (beta + high) / 2.0;
        } else {
            high = beta;
            beta = (beta + low) / 2.0;
        }
    }
}

/* One gradient step of t-SNE with momentum and per-coordinate gains. */
static void tsne_step(const double *p, size_t n, double exaggeration, double momentum, double *y,
                      double *velocity, double *gains, double *kernel)
{
    double z = 0.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
            kernel[i * n + j] = i == j ? 0.0 : 1.0 / (1.0 + dx * dx + dy * dy);
            z += kernel[i * n + j];
        }
    for (size_t i = 0; i < n; i++) {
        double gradient[2] = {0.0, 0.0};
        for (size_t j = 0; j < n; j++) {
            double force =
                (exaggeration * p[i * n + j] - kernel[i * n + j] / z) * kernel[i * n + j];
            gradient[0] += 4.0 * force * (y[2 * i] - y[2 * j]);
            gradient[1] += 4.0 * force * (y[2 * i + 1] - y[2 * j + 1]);
        }
        for (int c = 0; c < 2; c++) {
            size_t k = 2 * i + (size_t)c;
            int same_sign = (gradient[c] > 0.0) == (velocity[k] > 0.0);
            gains[k] = same_sign ? gains[k] * 0.8 : gains[k] + 0.2;
            gains[k] = gains[k] < 0.01 ? 0.01 : gains[k];
            velocity[k] = momentum * velocity[k] - 200.0 * gains[k] * gradient[c];
        }
    }
    for (size_t k = 0; k < 2 * n; k++)
        y[k] += velocity[k];
}

int projection_tsne(const float *rows, size_t n, size_t dim, double perplexity, double *x,
                    double *y)
{
    double shares[2];
    double *p = malloc(n * n * sizeof *p), *kernel = malloc(n * n * sizeof *kernel);
    double *position = malloc(2 * n * sizeof *position);
    double *velocity = calloc(2 * n, sizeof *velocity), *gains = malloc(2 * n * sizeof *gains);
    int ok = p && kernel && position && velocity && gains && n > 1 &&
             projection_pca(rows, n, dim, x, y, shares);
    if (ok) {
        if (perplexity > (double)(n - 1) / 3.0)
            perplexity = (double)(n - 1) / 3.0 > 1.0 ? (double)(n - 1) / 3.0 : 1.0;
        cosine_distances(rows, n, dim, kernel);
        for (size_t i = 0; i < n; i++)
            affinities_of(kernel, n, i, perplexity, p + i * n);
        for (size_t i = 0; i < n; i++) /* symmetric joint affinities */
            for (size_t j = i + 1; j < n; j++)
                p[i * n + j] = p[j * n + i] =
                    fmax((p[i * n + j] + p[j * n + i]) / (2.0 * n), 1e-12);
        /* start from the PCA picture, scaled to a standard deviation of 1e-4 */
        double spread = 0.0;
        for (size_t i = 0; i < n; i++)
            spread += x[i] * x[i] / (double)n;
        spread = spread > 0.0 ? sqrt(spread) : 1.0;
        for (size_t i = 0; i < n; i++) {
            position[2 * i] = 1e-4 * x[i] / spread;
            position[2 * i + 1] = 1e-4 * y[i] / spread;
            gains[2 * i] = gains[2 * i + 1] = 1.0;
        }
        for (int iteration = 0; iteration < 1000; iteration++)
            tsne_step(p, n, iteration < 250 ? 12.0 : 1.0, iteration < 250 ? 0.5 : 0.8, position,
                      velocity, gains, kernel);
        for (size_t i = 0; i < n; i++) {
            x[i] = position[2 * i];
            y[i] = position[2 * i + 1];
        }
    }
    free(p), free(kernel), free(position), free(velocity), free(gains);
    return ok;
}
