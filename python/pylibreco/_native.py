"""The shared library and the prototypes of its functions (ctypes).

The library is found, in order: at $LIBRECO_PATH (a file, or a folder holding
libreco.so.0); in the folder a wheel bundles it in (pip install: meson-python
puts it in .pylibreco.mesonpy.libs beside the package); where the package was
installed with it (_config.LIBDIR, meson install); then by the dynamic
loader's usual search. ctypes releases the GIL for the length of
every call, so other Python threads run while libreco trains or scores.
"""
import ctypes
import glob
import os

from . import errors

c_size = ctypes.c_size_t
c_int32_p = ctypes.POINTER(ctypes.c_int32)
c_int64_p = ctypes.POINTER(ctypes.c_int64)
c_float_p = ctypes.POINTER(ctypes.c_float)
c_size_p = ctypes.POINTER(ctypes.c_size_t)
c_double_p = ctypes.POINTER(ctypes.c_double)
handle = ctypes.c_void_p
handle_p = ctypes.POINTER(ctypes.c_void_p)

SONAME = "libreco.so.0"
ID_TEXT_MAX = 256  # RECO_ID_TEXT_MAX: an id's text and its NUL


class Progress(ctypes.Structure):
    """reco_progress, what the progress callback is told after every batch."""
    _fields_ = [("struct_size", c_size), ("epoch", c_size), ("step", c_size),
                ("steps", c_size), ("loss", ctypes.c_double),
                ("samples_per_second", ctypes.c_double)]


PROGRESS_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(Progress), ctypes.c_void_p)
# reco_trial_fn: the tuner's report after each trial's rung
TRIAL_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)

# name: (return type, argument types); status-returning calls return c_int
_S = ctypes.c_int
_PROTOTYPES = {
    "reco_status_string": (ctypes.c_char_p, [ctypes.c_int]),
    "reco_last_error": (ctypes.c_char_p, []),
    "reco_version_string": (ctypes.c_char_p, []),
    "reco_version_number": (ctypes.c_int, []),
    "reco_backend_open": (_S, [ctypes.c_char_p, handle_p]),
    "reco_backend_free": (None, [handle]),
    "reco_backend_name": (ctypes.c_char_p, [handle]),
    "reco_backend_set_threads": (_S, [handle, c_size]),
    "reco_backend_threads": (c_size, [handle]),
    "reco_backend_describe": (_S, [handle, ctypes.c_char_p, c_size]),
    "reco_backend_set_fast_math": (_S, [handle, ctypes.c_int]),
    "reco_dataset_read": (_S, [ctypes.c_char_p, ctypes.c_int, handle_p]),
    "reco_dataset_read_shared": (_S, [ctypes.c_char_p, ctypes.c_int, handle, handle_p]),
    "reco_dataset_read_ids": (_S, [ctypes.c_char_p, ctypes.c_int, ctypes.c_int, handle,
                                   handle_p]),
    "reco_dataset_from_arrays": (_S, [c_int64_p, c_int64_p, c_float_p, c_int64_p, c_size,
                                      handle_p]),
    "reco_dataset_synthetic": (_S, [c_size, c_size, c_size, ctypes.c_uint64, handle_p]),
    "reco_dataset_free": (None, [handle]),
    "reco_dataset_size": (c_size, [handle]),
    "reco_dataset_n_users": (c_size, [handle]),
    "reco_dataset_n_items": (c_size, [handle]),
    "reco_dataset_users": (c_int32_p, [handle]),
    "reco_dataset_items": (c_int32_p, [handle]),
    "reco_dataset_ratings": (c_float_p, [handle]),
    "reco_dataset_timestamps": (c_int64_p, [handle]),
    "reco_dataset_shares_vocabulary": (ctypes.c_int, [handle, handle]),
    "reco_dataset_user_id": (_S, [handle, ctypes.c_int32, c_int64_p]),
    "reco_dataset_item_id": (_S, [handle, ctypes.c_int32, c_int64_p]),
    "reco_dataset_user_index": (_S, [handle, ctypes.c_int64, c_int32_p]),
    "reco_dataset_item_index": (_S, [handle, ctypes.c_int64, c_int32_p]),
    "reco_dataset_read_titles": (_S, [handle, ctypes.c_char_p]),
    "reco_dataset_item_title": (ctypes.c_char_p, [handle, ctypes.c_int32]),
    "reco_dataset_deduplicate": (_S, [handle, ctypes.c_int, handle_p]),
    "reco_dataset_binarize": (_S, [handle, ctypes.c_float, handle_p]),
    "reco_dataset_scale_ratings": (_S, [handle, ctypes.c_float, handle_p]),
    "reco_dataset_split_leave_one_out": (_S, [handle, handle_p, handle_p]),
    "reco_dataset_split_random": (_S, [handle, ctypes.c_double, ctypes.c_uint64,
                                       ctypes.c_uint, handle_p, handle_p]),
    "reco_dataset_split_three_way": (_S, [handle, ctypes.c_double, ctypes.c_double,
                                          ctypes.c_uint64, ctypes.c_uint, handle_p, handle_p,
                                          handle_p]),
    "reco_dataset_sample_test_negatives": (_S, [handle, handle, c_size, ctypes.c_uint64]),
    "reco_dataset_read_test_negatives": (_S, [handle, ctypes.c_char_p]),
    "reco_dataset_test_negatives": (c_int32_p, [handle, c_size, c_size_p]),
    "reco_dataset_sample_negatives": (_S, [handle, c_size, ctypes.c_uint64, ctypes.c_uint64,
                                           c_int32_p]),
    "reco_model_new": (_S, [ctypes.c_int, c_size, c_size, handle_p]),
    "reco_model_free": (None, [handle]),
    "reco_model_set_factors": (_S, [handle, c_size]),
    "reco_model_set_layers": (_S, [handle, c_size_p, c_size]),
    "reco_model_set_biases": (_S, [handle, ctypes.c_int]),
    "reco_model_set_output": (_S, [handle, ctypes.c_int]),
    "reco_model_set_dropout": (_S, [handle, ctypes.c_float]),
    "reco_model_set_init_std": (_S, [handle, ctypes.c_float]),
    "reco_model_set_xavier_embeddings": (_S, [handle, ctypes.c_int]),
    "reco_model_init": (_S, [handle, handle, ctypes.c_uint64]),
    "reco_model_neumf_from_pretrained": (_S, [handle, handle, ctypes.c_float, handle_p]),
    "reco_model_kind_of": (ctypes.c_int, [handle]),
    "reco_model_n_users": (c_size, [handle]),
    "reco_model_n_items": (c_size, [handle]),
    "reco_model_predict": (_S, [handle, c_int32_p, c_int32_p, c_size, c_float_p]),
    "reco_model_parameter_count": (c_size, [handle]),
    "reco_model_get_parameters": (_S, [handle, c_float_p]),
    "reco_model_set_parameters": (_S, [handle, c_float_p]),
    "reco_model_set_vocabulary": (_S, [handle, handle]),
    "reco_model_user_id": (_S, [handle, ctypes.c_int32, c_int64_p]),
    "reco_model_item_id": (_S, [handle, ctypes.c_int32, c_int64_p]),
    "reco_model_user_index": (_S, [handle, ctypes.c_int64, c_int32_p]),
    "reco_model_item_index": (_S, [handle, ctypes.c_int64, c_int32_p]),
    "reco_model_recommend": (_S, [handle, ctypes.c_int32, c_size, handle, c_int32_p, c_float_p,
                                  c_size_p]),
    "reco_model_recommend_batch": (_S, [handle, c_int32_p, c_size, c_size, handle, c_int32_p,
                                        c_float_p, c_size_p]),
    "reco_model_embedding_dim": (c_size, [handle]),
    "reco_model_get_user_embeddings": (_S, [handle, c_float_p]),
    "reco_model_get_item_embeddings": (_S, [handle, c_float_p]),
    "reco_model_similar_items": (_S, [handle, ctypes.c_int32, c_size, c_int32_p, c_float_p,
                                      c_size_p]),
    "reco_model_fold_in": (_S, [handle, c_int32_p, c_size, c_size, ctypes.c_uint64, c_int32_p]),
    "reco_model_similar_users": (_S, [handle, ctypes.c_int32, c_size, c_int32_p, c_float_p,
                                      c_size_p]),
    "reco_model_refit_user": (_S, [handle, ctypes.c_int32, c_int32_p, c_size]),
    "reco_model_user_id_text": (_S, [handle, ctypes.c_int32, ctypes.c_char_p, c_size]),
    "reco_model_item_id_text": (_S, [handle, ctypes.c_int32, ctypes.c_char_p, c_size]),
    "reco_model_user_index_of_text": (_S, [handle, ctypes.c_char_p, c_int32_p]),
    "reco_model_item_index_of_text": (_S, [handle, ctypes.c_char_p, c_int32_p]),
    "reco_model_set_metadata": (_S, [handle, ctypes.c_char_p, ctypes.c_char_p]),
    "reco_model_metadata": (ctypes.c_char_p, [handle, ctypes.c_char_p]),
    "reco_dataset_user_id_text": (_S, [handle, ctypes.c_int32, ctypes.c_char_p, c_size]),
    "reco_dataset_item_id_text": (_S, [handle, ctypes.c_int32, ctypes.c_char_p, c_size]),
    "reco_dataset_user_index_of_text": (_S, [handle, ctypes.c_char_p, c_int32_p]),
    "reco_dataset_item_index_of_text": (_S, [handle, ctypes.c_char_p, c_int32_p]),
    "reco_model_save_buffer": (_S, [handle, ctypes.POINTER(ctypes.c_void_p), c_size_p]),
    "reco_model_load_buffer": (_S, [ctypes.c_char_p, c_size, handle, handle_p]),
    "reco_free": (None, [ctypes.c_void_p]),
    "reco_model_has_seen": (ctypes.c_int, [handle]),
    "reco_model_get_biases": (_S, [handle, c_float_p, c_float_p, c_float_p]),
    "reco_model_save": (_S, [handle, ctypes.c_char_p]),
    "reco_model_load": (_S, [ctypes.c_char_p, handle, handle_p]),
    "reco_trainer_new": (_S, [handle, handle_p]),
    "reco_trainer_free": (None, [handle]),
    "reco_trainer_set_loss": (_S, [handle, ctypes.c_int]),
    "reco_trainer_set_mean_reduction": (_S, [handle, ctypes.c_int]),
    "reco_trainer_set_negatives": (_S, [handle, c_size]),
    "reco_trainer_set_optimizer": (_S, [handle, ctypes.c_int]),
    "reco_trainer_set_learning_rate": (_S, [handle, ctypes.c_double]),
    "reco_trainer_set_momentum": (_S, [handle, ctypes.c_double]),
    "reco_trainer_set_adam_betas": (_S, [handle, ctypes.c_double, ctypes.c_double]),
    "reco_trainer_set_epsilon": (_S, [handle, ctypes.c_double]),
    "reco_trainer_set_weight_decay": (_S, [handle, ctypes.c_double]),
    "reco_trainer_set_unobserved_weight": (_S, [handle, ctypes.c_double]),
    "reco_trainer_set_confidence": (_S, [handle, ctypes.c_double]),
    "reco_trainer_set_solver": (_S, [handle, ctypes.c_int, c_size]),
    "reco_trainer_set_neighbours": (_S, [handle, c_size, ctypes.c_int]),
    "reco_trainer_set_bm25": (_S, [handle, ctypes.c_double, ctypes.c_double]),
    "reco_trainer_set_lr_decay": (_S, [handle, ctypes.c_double]),
    "reco_trainer_set_batch_size": (_S, [handle, c_size]),
    "reco_trainer_set_dense_embeddings": (_S, [handle, ctypes.c_int]),
    "reco_trainer_set_fixed_negatives": (_S, [handle, ctypes.c_int]),
    "reco_trainer_set_seed": (_S, [handle, ctypes.c_uint64]),
    "reco_trainer_set_per_example": (_S, [handle, ctypes.c_int]),
    "reco_trainer_set_progress": (_S, [handle, PROGRESS_FN, ctypes.c_void_p]),
    "reco_trainer_epoch": (_S, [handle, handle, c_double_p]),
    "reco_trainer_set_validation": (_S, [handle, handle, handle, ctypes.c_int, c_size]),
    "reco_trainer_set_early_stopping": (_S, [handle, c_size]),
    "reco_trainer_best": (_S, [handle, c_size_p, c_double_p]),
    "reco_trainer_last_validation": (_S, [handle, c_double_p]),
    "reco_trainer_fit": (_S, [handle, handle, c_size]),
    "reco_metrics_new": (_S, [handle_p]),
    "reco_metrics_free": (None, [handle]),
    "reco_metrics_set_k": (_S, [handle, c_size]),
    "reco_metrics_evaluate_sampled": (_S, [handle, handle, handle]),
    "reco_metrics_evaluate_ranking": (_S, [handle, handle, handle, handle]),
    "reco_metrics_evaluate_ratings": (_S, [handle, handle, handle]),
    "reco_metrics_get": (_S, [handle, ctypes.c_int, c_double_p]),
    "reco_item_tags_read": (_S, [handle, ctypes.c_char_p, handle_p]),
    "reco_item_tags_free": (None, [handle]),
    "reco_item_tags_count": (c_size, [handle]),
    "reco_item_tags_name": (ctypes.c_char_p, [handle, c_size]),
    "reco_item_tags_has": (ctypes.c_int, [handle, ctypes.c_int32, ctypes.c_char_p]),
    "reco_filter_new": (_S, [handle, handle_p]),
    "reco_filter_free": (None, [handle]),
    "reco_filter_exclude_items": (_S, [handle, c_int32_p, c_size]),
    "reco_filter_only_items": (_S, [handle, c_int32_p, c_size]),
    "reco_filter_include_tag": (_S, [handle, handle, ctypes.c_char_p]),
    "reco_filter_exclude_tag": (_S, [handle, handle, ctypes.c_char_p]),
    "reco_filter_set_seen": (_S, [handle, ctypes.c_int, handle]),
    "reco_model_recommend_filtered": (_S, [handle, c_int32_p, c_size, c_size, handle, c_int32_p,
                                           c_float_p, c_size_p]),
    "reco_index_build": (_S, [handle, c_size, c_size, ctypes.c_uint64, handle_p]),
    "reco_index_free": (None, [handle]),
    "reco_index_save": (_S, [handle, ctypes.c_char_p]),
    "reco_index_load": (_S, [handle, ctypes.c_char_p, handle_p]),
    "reco_model_recommend_approximate": (_S, [handle, handle, c_int32_p, c_size, c_size, c_size,
                                              handle, c_int32_p, c_float_p, c_size_p]),
    "reco_tuner_new": (_S, [ctypes.c_int, ctypes.c_int, handle_p]),
    "reco_tuner_free": (None, [handle]),
    "reco_tuner_set_budget": (_S, [handle, ctypes.c_double, c_size]),
    "reco_tuner_set_max_epochs": (_S, [handle, c_size]),
    "reco_tuner_set_seed": (_S, [handle, ctypes.c_uint64]),
    "reco_tuner_set_threads": (_S, [handle, c_size]),
    "reco_tuner_set_report": (_S, [handle, TRIAL_FN, ctypes.c_void_p]),
    "reco_tuner_run": (_S, [handle, handle, handle, handle, ctypes.c_int, c_size]),
    "reco_tuner_best": (handle, [handle]),
    "reco_tuner_trials_run": (c_size, [handle]),
    "reco_tuner_fit_best": (_S, [handle, handle, handle, handle_p]),
    "reco_trial_id": (c_size, [handle]),
    "reco_trial_setting": (ctypes.c_double, [handle, ctypes.c_int]),
    "reco_trial_epochs": (c_size, [handle]),
    "reco_trial_best_epoch": (c_size, [handle]),
    "reco_trial_score": (ctypes.c_double, [handle]),
    "reco_trial_seconds": (ctypes.c_double, [handle]),
    "reco_trial_flags": (c_size, [handle, ctypes.c_char_p, c_size]),
}


def _candidates():
    override = os.environ.get("LIBRECO_PATH")
    if override:
        yield os.path.join(override, SONAME) if os.path.isdir(override) else override
        return
    here = os.path.dirname(os.path.abspath(__file__))
    bundled = os.path.join(os.path.dirname(here), ".pylibreco.mesonpy.libs")
    # a wheel holds no symbolic links: the library is there by its full name
    yield from sorted(glob.glob(os.path.join(bundled, "libreco.so.0*")))
    try:
        from . import _config
        if _config.LIBDIR:
            yield os.path.join(_config.LIBDIR, SONAME)
    except ImportError:
        pass
    yield SONAME


def _load():
    tried = []
    for path in _candidates():
        try:
            library = ctypes.CDLL(path)
        except OSError as error:
            tried.append(f"{path} ({error})")
            continue
        for name, (result, arguments) in _PROTOTYPES.items():
            function = getattr(library, name)
            function.restype = result
            function.argtypes = arguments
        return library
    raise ImportError("pylibreco: cannot load the shared library; tried " + "; ".join(tried) +
                      " (set LIBRECO_PATH to libreco.so.0 or its folder)")


lib = _load()


def check(status):
    """Raises the exception of a non-OK status, with reco_last_error()."""
    if status != 0:
        message = lib.reco_last_error().decode("utf-8", "replace")
        raise errors.BY_STATUS.get(status, errors.RecoError)(message)


def text(value):
    """A path or name for C: str or os.PathLike as UTF-8 bytes."""
    return os.fsencode(value)
