/* libreco — umbrella header: include this one. */
#ifndef RECO_RECO_H
#define RECO_RECO_H

#include "reco/backend.h"
#include "reco/common.h"
#include "reco/dataset.h"
#include "reco/filter.h"
#include "reco/index.h"
#include "reco/metrics.h"
#include "reco/model.h"
#include "reco/trainer.h"
#include "reco/tuner.h"

#endif
