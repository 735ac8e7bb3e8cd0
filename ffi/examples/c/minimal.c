/* The footprint figure of scripts/ci-ffi.sh: what a firmware that trains one model size
 * (D = 8) links — fit on a buffer, the online learner's push and step, predict, and the model
 * bytes out — with no printf. Returns the first failing status (0 if none). */
#include <stdint.h>
#include <string.h>

#include "npoa.h"

static float xs[32 * 8];
static float ys[32];
static uint64_t mem[NPOA_LEARNER8_SIZE / sizeof(uint64_t)];
static uint8_t flash[NPOA_MODEL8_BYTES];

int main(void) {
    for (int i = 0; i < 32 * 8; i++) {
        xs[i] = (float)((i * 37) % 17) / 16.0f - 0.5f;
    }
    for (int i = 0; i < 32; i++) {
        ys[i] = xs[i * 8] - 2.0f * xs[i * 8 + 1] + 0.25f;
    }
    npoa_model8 m;
    memset(&m, 0, sizeof m);
    npoa_fit_config cfg = npoa_fit_config_default();
    cfg.learning_rate = 0.1f;
    npoa_status st = npoa_model8_fit(&m, xs, sizeof xs / sizeof xs[0], ys, 32, &cfg, NULL);
    if (st != NPOA_OK) {
        return (int)st;
    }
    npoa_online_config oc = npoa_online_config_default();
    npoa_learner8 *l = NULL;
    st = npoa_learner8_init(mem, sizeof mem, &oc, &m, &l);
    for (int t = 0; t < 256 && st == NPOA_OK; t++) {
        st = npoa_learner8_push(l, &xs[(t % 32) * 8], 8, ys[t % 32]);
        if (st == NPOA_OK) {
            st = npoa_learner8_step(l, NULL);
        }
    }
    if (st == NPOA_OK) {
        st = npoa_learner8_model(l, &m);
    }
    float p = 0.0f;
    if (st == NPOA_OK) {
        st = npoa_model8_predict(&m, xs, 8, &p, 1);
    }
    if (st == NPOA_OK) {
        st = npoa_model8_to_bytes(&m, flash, sizeof flash, NULL);
    }
    return (int)st;
}
