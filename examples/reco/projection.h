/* reco: two-dimensional pictures of embeddings (PCA, t-SNE). */
#ifndef RECO_CLI_PROJECTION_H
#define RECO_CLI_PROJECTION_H

#include <stddef.h>

/* Projects n rows of dim columns on their two principal components into x
 * and y; writes each component's share of the total variance to
 * shares[0..1]. Returns 0 out of memory. */
int projection_pca(const float *rows, size_t n, size_t dim, double *x, double *y, double shares[2]);

/* Exact t-SNE (van der Maaten and Hinton, 2008) of n rows of dim columns,
 * on cosine geometry (rows normalized), at the given perplexity, started
 * from the PCA picture so that the same rows give the same map: 1,000
 * iterations, early exaggeration 12 for the first 250. O(n^2) time and
 * memory: meant for a few thousand points. Returns 0 out of memory. */
int projection_tsne(const float *rows, size_t n, size_t dim, double perplexity, double *x,
                    double *y);

#endif
