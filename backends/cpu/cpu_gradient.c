/* CPU backend: a workspace's gradients out to the host (dense, or sparse
 * for data-parallel training) and a sparse gradient back in. Row gradients
 * live in the row partitions the optimizer steps (cpu_internal.h). */
#include <string.h>

#include "cpu_internal.h"

reco_status reco_cpu_gradient_download(reco_backend_context *context, const reco_net_desc *net,
                                       reco_backend_workspace *workspace, float *gradient)
{
    reco_cpu_workspace_land(workspace);
    (void)context;
    float *p = gradient;
    for (int t = 0; t < RECO_N_TABLES; t++) {
        size_t dim = net->table_dim[t];
        if (!dim)
            continue;
        memset(p, 0, net->table_rows[t] * dim * sizeof *p);
        for (size_t part = 0; part < workspace->n_slices; part++) {
            const cpu_row_grads *rows = &workspace->sides[cpu_side_of(t)].parts[part];
            for (size_t r = 0; r < rows->n_rows; r++)
                memcpy(p + (size_t)rows->rows[r] * dim, rows->grads[t] + r * dim, dim * sizeof *p);
        }
        p += net->table_rows[t] * dim;
    }
    memcpy(p, workspace->dense_grad, net->n_dense * sizeof *p);
    return RECO_OK;
}

/* The tables of `side`, in reco_table order. */
static int side_tables(const reco_net_desc *net, int side, int *tables)
{
    int n = 0;
    for (int t = side; t < RECO_N_TABLES; t += CPU_N_SIDES)
        if (net->table_dim[t])
            tables[n++] = t;
    return n;
}

reco_status reco_cpu_gradient_export(reco_backend_context *context, const reco_net_desc *net,
                                     reco_backend_workspace *workspace,
                                     reco_sparse_gradient *gradient)
{
    reco_cpu_workspace_land(workspace);
    (void)context;
    for (int side = 0; side < CPU_N_SIDES; side++) {
        int tables[RECO_N_TABLES];
        int n_tables = side_tables(net, side, tables);
        size_t n = 0;
        for (size_t part = 0; n_tables && part < workspace->n_slices; part++) {
            const cpu_row_grads *rows = &workspace->sides[side].parts[part];
            memcpy(gradient->rows[side] + n, rows->rows, rows->n_rows * sizeof(int32_t));
            for (int k = 0; k < n_tables; k++) {
                size_t dim = net->table_dim[tables[k]];
                memcpy(gradient->values[tables[k]] + n * dim, rows->grads[tables[k]],
                       rows->n_rows * dim * sizeof(float));
            }
            n += rows->n_rows;
        }
        gradient->n_rows[side] = n;
    }
    memcpy(gradient->dense, workspace->dense_grad, net->n_dense * sizeof(float));
    return RECO_OK;
}

reco_status reco_cpu_gradient_import(reco_backend_context *context, const reco_net_desc *net,
                                     reco_backend_workspace *workspace,
                                     const reco_sparse_gradient *gradient)
{
    reco_cpu_workspace_land(workspace);
    (void)context;
    size_t n_parts = workspace->n_slices;
    for (int side = 0; side < CPU_N_SIDES; side++) {
        int tables[RECO_N_TABLES];
        int n_tables = side_tables(net, side, tables);
        if (!n_tables)
            continue;
        cpu_side_grad *grad = &workspace->sides[side];
        for (size_t part = 0; part < n_parts; part++) {
            cpu_row_grads *rows = &grad->parts[part];
            for (size_t r = 0; r < rows->n_rows; r++)
                grad->slot_of_row[rows->rows[r]] = -1;
            rows->n_rows = 0;
        }
        for (size_t i = 0; i < gradient->n_rows[side]; i++) {
            int32_t id = gradient->rows[side][i];
            if (id < 0 || (size_t)id >= grad->n_rows || grad->slot_of_row[id] >= 0)
                return reco_backend_fail(RECO_ERR_INVALID_ARGUMENT,
                                         "cpu backend: a gradient row out of range or twice");
            cpu_row_grads *rows = &grad->parts[cpu_partition_of(id, n_parts)];
            size_t slot = rows->n_rows++;
            grad->slot_of_row[id] = (int32_t)slot;
            rows->rows[slot] = id;
            for (int k = 0; k < n_tables; k++) {
                size_t dim = net->table_dim[tables[k]];
                memcpy(rows->grads[tables[k]] + slot * dim, gradient->values[tables[k]] + i * dim,
                       dim * sizeof(float));
            }
        }
    }
    memcpy(workspace->dense_grad, gradient->dense, net->n_dense * sizeof(float));
    return RECO_OK;
}
