/* NeuMF from a pretrained GMF and MLP (the NCF paper's pretraining): the
 * tables and tower copied, the head made of both heads weighed by alpha. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "model_impl.h"
#include "reco_alloc.h"

/* Copies `count` floats of a source vector into the composed one. */
static float *take(float *to, const float *from, size_t count)
{
    memcpy(to, from, count * sizeof *to);
    return to + count;
}

reco_status reco_model_neumf_from_pretrained(const reco_model *gmf, const reco_model *mlp,
                                             float alpha, reco_model **out)
{
    if (!out)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL output");
    *out = NULL;
    reco_status status = reco_model_check_ready(gmf);
    if (status == RECO_OK)
        status = reco_model_check_ready(mlp);
    if (status != RECO_OK)
        return status;
    if (gmf->kind != RECO_MODEL_GMF || mlp->kind != RECO_MODEL_MLP)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "expected a GMF and an MLP model");
    if (gmf->n_users != mlp->n_users || gmf->n_items != mlp->n_items)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT,
                         "the GMF (%zu x %zu) and the MLP (%zu x %zu) differ in size",
                         gmf->n_users, gmf->n_items, mlp->n_users, mlp->n_items);
    if (!(alpha >= 0.0f && alpha <= 1.0f))
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "alpha %g: expected [0, 1]", (double)alpha);
    status = reco_model_compare_vocabularies(gmf, mlp, "the GMF", "the MLP");
    if (status != RECO_OK)
        return status;
    reco_model *neumf = NULL;
    float *gmf_values = reco_malloc(reco_model_parameter_count(gmf) * sizeof(float));
    float *mlp_values = reco_malloc(reco_model_parameter_count(mlp) * sizeof(float));
    float *values = NULL;
    status = reco_model_new(RECO_MODEL_NEUMF, gmf->n_users, gmf->n_items, &neumf);
    if (status == RECO_OK)
        status = reco_model_set_factors(neumf, gmf->factors);
    if (status == RECO_OK)
        status = reco_model_set_layers(neumf, mlp->layer_sizes, mlp->n_layer_sizes);
    if (status == RECO_OK)
        status = reco_model_set_output(neumf, gmf->output);
    if (status == RECO_OK)
        status = reco_model_set_dropout(neumf, mlp->dropout);
    if (status == RECO_OK)
        status = reco_model_init(neumf, gmf->backend, 0);
    if (status == RECO_OK && !(values = reco_malloc(reco_model_parameter_count(neumf) * sizeof(float))))
        status = reco_fail_oom();
    if (status == RECO_OK && (!gmf_values || !mlp_values))
        status = reco_fail_oom();
    if (status == RECO_OK)
        status = reco_model_get_parameters(gmf, gmf_values);
    if (status == RECO_OK)
        status = reco_model_get_parameters(mlp, mlp_values);
    if (status != RECO_OK)
        goto fail;
    /* NeuMF's flat order: GMF tables, MLP tables, tower, head [gmf | mlp], bias */
    const reco_net_desc *g = &gmf->net, *m = &mlp->net;
    size_t gmf_tables = reco_table_size(g, RECO_TABLE_USER_GMF) + reco_table_size(g, RECO_TABLE_ITEM_GMF);
    size_t mlp_tables = reco_table_size(m, RECO_TABLE_USER_MLP) + reco_table_size(m, RECO_TABLE_ITEM_MLP);
    const float *gmf_dense = gmf_values + gmf_tables, *mlp_dense = mlp_values + mlp_tables;
    float *p = take(values, gmf_values, gmf_tables);
    p = take(p, mlp_values, mlp_tables + m->head_w_offset);
    for (size_t k = 0; k < g->head_in; k++)
        *p++ = alpha * gmf_dense[g->head_w_offset + k];
    for (size_t j = 0; j < m->head_in; j++)
        *p++ = (1.0f - alpha) * mlp_dense[m->head_w_offset + j];
    *p = alpha * gmf_dense[g->head_b_offset] + (1.0f - alpha) * mlp_dense[m->head_b_offset];
    status = reco_model_set_parameters(neumf, values);
    if (status == RECO_OK)
        status = reco_model_copy_vocabulary(neumf, gmf);
    if (status != RECO_OK)
        goto fail;
    reco_free(values);
    reco_free(gmf_values);
    reco_free(mlp_values);
    *out = neumf;
    return RECO_OK;
fail:
    reco_free(values);
    reco_free(gmf_values);
    reco_free(mlp_values);
    reco_model_free(neumf);
    return status;
}
