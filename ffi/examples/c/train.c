/* npoa's C API end to end: batch training (fit) and streaming training (the online learner)
 * on synthetic data, predictions, model bytes out and back in, and the error codes of bad
 * inputs. Prints what it checks; returns non-zero if any check fails.
 *
 * Host:      gcc -std=c99 -Wall -Wextra -Werror -I ffi/include ffi/examples/c/train.c \
 *              target/release/libnpoa_ffi.a -lm -lpthread -ldl -o train && ./train
 * Cortex-M4F: see scripts/ci-ffi.sh (arm-none-eabi-gcc, the thumbv7em-none-eabihf archive).
 *
 * The printed lines are the same on every target (the data come from an integer generator
 * and npoa's arithmetic is bit-identical across targets): scripts/ci-ffi.sh compares the
 * host's output with QEMU's. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "npoa.h"

/* The layout the header promises, the same on 64-bit hosts and 32-bit microcontrollers
 * (ffi/tests/api.rs checks the Rust side's sizes against the same numbers). */
#define STATIC_ASSERT(name, cond) typedef char static_assert_##name[(cond) ? 1 : -1]
STATIC_ASSERT(model4, sizeof(npoa_model4) == 4 * (4 + 3));
STATIC_ASSERT(model8, sizeof(npoa_model8) == 4 * (8 + 3));
STATIC_ASSERT(model16, sizeof(npoa_model16) == 4 * (16 + 3));
STATIC_ASSERT(model32, sizeof(npoa_model32) == 4 * (32 + 3));
STATIC_ASSERT(optimizer, sizeof(npoa_optimizer) == 16);
STATIC_ASSERT(fit_config, sizeof(npoa_fit_config) == 48);
STATIC_ASSERT(fit_summary, sizeof(npoa_fit_summary) == 32);
STATIC_ASSERT(online_config, sizeof(npoa_online_config) == 64);
STATIC_ASSERT(step_report, sizeof(npoa_step_report) == 40);
STATIC_ASSERT(status, sizeof(npoa_status) == 4);

static int failures = 0;

static void check(int ok, const char *what) {
    printf("%s: %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) {
        failures++;
    }
}

static void check_status(npoa_status got, npoa_status want, const char *what) {
    char line[160];
    snprintf(line, sizeof line, "%s -> %d (%s)", what, (int)got, npoa_error_message(got));
    check(got == want, line);
}

/* A float's bits, for output that compares exactly across targets. */
static unsigned long bits(float v) {
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    return (unsigned long)u;
}

/* A deterministic generator: x in [-1, 1) on a grid of 1/1024 (exact in float). */
static uint32_t rng_state = 12345u;
static float uniform(void) {
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)((int32_t)(rng_state >> 21) - 1024) / 1024.0f;
}

#define N 256
static float xs[N * 32];
static float ys[N];
static const float truth8[8] = {1.5f, -2.0f, 0.5f, 0.0f, 3.0f, -1.0f, 0.25f, 2.0f};
static const float bias8 = 0.75f;

static float dot8(const float *w, const float *x, float b) {
    float s = b;
    for (int j = 0; j < 8; j++) {
        s += w[j] * x[j];
    }
    return s;
}

static void make_linear8(void) {
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < 8; j++) {
            xs[i * 8 + j] = uniform();
        }
        ys[i] = dot8(truth8, &xs[i * 8], bias8);
    }
}

static float max_error8(const npoa_model8 *m) {
    float e = fabsf(m->b - bias8);
    for (int j = 0; j < 8; j++) {
        float d = fabsf(m->w[j] - truth8[j]);
        e = d > e ? d : e;
    }
    return e;
}

static void print_model8(const char *name, const npoa_model8 *m) {
    printf("%s bits:", name);
    for (int j = 0; j < 8; j++) {
        printf(" %08lx", bits(m->w[j]));
    }
    printf(" b=%08lx\n", bits(m->b));
}

/* Batch training of a squared-error model, predictions, and the bytes' round trip. */
static void fit_squared(npoa_model8 *out) {
    npoa_model8 m;
    memset(&m, 0, sizeof m); /* zero weights, NPOA_LOSS_SQUARED */
    npoa_fit_config cfg = npoa_fit_config_default();
    cfg.learning_rate = 0.1f;
    cfg.epochs = 200;
    cfg.batch_size = 16;
    npoa_fit_summary s;
    check_status(npoa_model8_fit(&m, xs, N * 8, ys, N, &cfg, &s), NPOA_OK, "fit squared, D = 8");
    char line[120];
    snprintf(line, sizeof line, "fit: max |w - truth| = %.3g < 1e-3 (final loss %.3g, %lu steps)",
             (double)max_error8(&m), (double)s.final_loss, (unsigned long)s.steps);
    check(max_error8(&m) < 1e-3f && s.epochs == 200 && s.stop == NPOA_STOP_MAX_EPOCHS, line);
    print_model8("fit", &m);

    float pred[4];
    check_status(npoa_model8_predict(&m, xs, 4 * 8, pred, 4), NPOA_OK, "predict 4 rows");
    float worst = 0.0f;
    for (int i = 0; i < 4; i++) {
        float d = fabsf(pred[i] - dot8(m.w, &xs[i * 8], m.b));
        worst = d > worst ? d : worst;
    }
    check(worst < 1e-5f, "predictions equal w.x + b (within 1e-5)");

    uint8_t bytes[NPOA_MODEL8_BYTES];
    size_t written = 0;
    check_status(npoa_model8_to_bytes(&m, bytes, sizeof bytes, &written), NPOA_OK, "to_bytes");
    check(written == NPOA_MODEL8_BYTES, "to_bytes wrote NPOA_MODEL8_BYTES bytes");
    npoa_model8 back;
    memset(&back, 0xff, sizeof back);
    check_status(npoa_model8_from_bytes(&back, bytes, written), NPOA_OK, "from_bytes");
    check(memcmp(&back, &m, sizeof m) == 0, "round trip is bit-equal");
    printf("bytes crc32 field: %02x%02x%02x%02x\n", bytes[written - 1], bytes[written - 2],
           bytes[written - 3], bytes[written - 4]);
    *out = m;
}

/* Logistic regression on 4 features: labels from a separating plane. */
static void fit_logistic(void) {
    static const float w4[4] = {2.0f, -1.0f, 0.5f, 1.0f};
    for (int i = 0; i < N; i++) {
        float z = 0.25f;
        for (int j = 0; j < 4; j++) {
            xs[i * 4 + j] = uniform();
            z += w4[j] * xs[i * 4 + j];
        }
        ys[i] = z > 0.0f ? 1.0f : 0.0f;
    }
    npoa_model4 m;
    memset(&m, 0, sizeof m);
    m.loss = NPOA_LOSS_LOGISTIC;
    npoa_fit_config cfg = npoa_fit_config_default();
    cfg.learning_rate = 0.5f;
    cfg.epochs = 100;
    cfg.batch_size = 8;
    check_status(npoa_model4_fit(&m, xs, N * 4, ys, N, &cfg, NULL), NPOA_OK, "fit logistic, D = 4");
    float logits[N];
    check_status(npoa_model4_predict(&m, xs, N * 4, logits, N), NPOA_OK, "predict logits");
    int right = 0;
    for (int i = 0; i < N; i++) {
        float p = npoa_sigmoid(logits[i]);
        right += (p >= 0.5f) == (ys[i] == 1.0f);
    }
    char line[80];
    snprintf(line, sizeof line, "logistic accuracy %d/%d >= 97 %%", right, N);
    check(right * 100 >= 97 * N, line);
    ys[0] = 2.0f; /* a logistic target outside [0, 1] */
    check_status(npoa_model4_fit(&m, xs, N * 4, ys, N, &cfg, NULL), NPOA_ERR_INVALID_DATA,
                 "logistic target 2");
}

/* Huber regression on 16 features with a few gross outliers in the targets. */
static void fit_huber(void) {
    static float w16[16];
    for (int j = 0; j < 16; j++) {
        w16[j] = (float)(j % 5) - 2.0f;
    }
    for (int i = 0; i < N; i++) {
        float y = -0.5f;
        for (int j = 0; j < 16; j++) {
            xs[i * 16 + j] = uniform();
            y += w16[j] * xs[i * 16 + j];
        }
        ys[i] = (i % 37 == 0) ? y + 50.0f : y;
    }
    npoa_model16 m;
    memset(&m, 0, sizeof m);
    m.loss = NPOA_LOSS_HUBER;
    m.loss_param = 1.0f;
    npoa_fit_config cfg = npoa_fit_config_default();
    cfg.learning_rate = 0.2f;
    cfg.epochs = 300;
    cfg.batch_size = 16;
    check_status(npoa_model16_fit(&m, xs, N * 16, ys, N, &cfg, NULL), NPOA_OK, "fit Huber, D = 16");
    float e = 0.0f;
    for (int j = 0; j < 16; j++) {
        float d = fabsf(m.w[j] - w16[j]);
        e = d > e ? d : e;
    }
    char line[100];
    snprintf(line, sizeof line, "Huber despite outliers: max |w - truth| = %.3g < 0.05", (double)e);
    check(e < 0.05f, line);
}

/* The learner's memory: static, 8-byte aligned by its element type. */
static uint64_t learner_mem[NPOA_LEARNER8_SIZE / sizeof(uint64_t)];

static void online(void) {
    check(npoa_learner8_size() <= NPOA_LEARNER8_SIZE, "npoa_learner8_size() <= NPOA_LEARNER8_SIZE");
    check(npoa_learner_align() <= NPOA_LEARNER_ALIGN, "npoa_learner_align() <= NPOA_LEARNER_ALIGN");
    npoa_online_config cfg = npoa_online_config_default();
    cfg.learning_rate = 0.05f;
    npoa_learner8 *l = NULL;
    check_status(npoa_learner8_init(learner_mem, sizeof learner_mem, &cfg, NULL, &l), NPOA_OK,
                 "learner init");
    if (l == NULL) {
        return;
    }
    make_linear8();
    npoa_step_report r;
    memset(&r, 0, sizeof r);
    npoa_status st = NPOA_OK;
    for (int t = 0; t < 4000 && st == NPOA_OK; t++) {
        const float *x = &xs[(t % N) * 8];
        st = npoa_learner8_push(l, x, 8, ys[t % N]);
        if (st == NPOA_OK) {
            st = npoa_learner8_step(l, &r);
        }
    }
    check_status(st, NPOA_OK, "4000 push + step");
    npoa_model8 m;
    check_status(npoa_learner8_model(l, &m), NPOA_OK, "learner model");
    char line[140];
    snprintf(line, sizeof line, "online: max |w - truth| = %.3g < 0.02 (%lu updates, %lu rounds)",
             (double)max_error8(&m), (unsigned long)r.total_updates, (unsigned long)r.total_rounds);
    check(max_error8(&m) < 0.02f, line);
    print_model8("online", &m);
    float p = 0.0f;
    check_status(npoa_learner8_predict(l, xs, 8, &p), NPOA_OK, "learner predict");
    check(fabsf(p - ys[0]) < 0.05f, "learner prediction near the target");
    check_status(npoa_learner8_reset(l), NPOA_OK, "learner reset");
    check_status(npoa_learner8_model(l, &m), NPOA_OK, "model after reset");
    check(max_error8(&m) == fabsf(truth8[4]), "reset gives back the zero starting model");
    check_status(npoa_learner8_push(l, xs, 7, 1.0f), NPOA_ERR_LENGTH_MISMATCH, "push 7 floats");
}

static void bad_inputs(const npoa_model8 *good) {
    npoa_model8 m = *good;
    npoa_fit_config cfg = npoa_fit_config_default();
    make_linear8();
    check_status(npoa_model8_fit(NULL, xs, N * 8, ys, N, &cfg, NULL), NPOA_ERR_NULL, "fit NULL model");
    check_status(npoa_model8_fit(&m, NULL, N * 8, ys, N, &cfg, NULL), NPOA_ERR_NULL, "fit NULL x");
    check_status(npoa_model8_fit(&m, xs, N * 8 - 1, ys, N, &cfg, NULL), NPOA_ERR_LENGTH_MISMATCH,
                 "fit x_len != n * 8");
    check_status(npoa_model8_fit(&m, xs, 0, ys, 0, &cfg, NULL), NPOA_ERR_EMPTY_BATCH, "fit n = 0");
    cfg.learning_rate = 0.0f;
    check_status(npoa_model8_fit(&m, xs, N * 8, ys, N, &cfg, NULL), NPOA_ERR_INVALID_PARAMETER,
                 "fit learning rate 0");
    cfg = npoa_fit_config_default();
    cfg.optimizer.kind = 42;
    check_status(npoa_model8_fit(&m, xs, N * 8, ys, N, &cfg, NULL), NPOA_ERR_UNKNOWN_ENUM,
                 "fit optimizer kind 42");
    cfg = npoa_fit_config_default();
    cfg.learning_rate = 1e6f;
    check_status(npoa_model8_fit(&m, xs, N * 8, ys, N, &cfg, NULL), NPOA_ERR_DIVERGED, "fit rate 1e6");
    check(memcmp(&m, good, sizeof m) == 0, "a failed fit leaves the model unchanged");
    cfg = npoa_fit_config_default();
    float keep = xs[3];
    xs[3] = NAN;
    check_status(npoa_model8_fit(&m, xs, N * 8, ys, N, &cfg, NULL), NPOA_ERR_NON_FINITE, "fit NaN in x");
    xs[3] = keep;
    m.loss = 4; /* the softmax code: not a one-output loss */
    check_status(npoa_model8_fit(&m, xs, N * 8, ys, N, &cfg, NULL), NPOA_ERR_UNKNOWN_ENUM, "loss code 4");
    m = *good;
    m.w[2] = INFINITY;
    float out;
    check_status(npoa_model8_predict(&m, xs, 8, &out, 1), NPOA_ERR_NON_FINITE, "predict infinite weight");
    m = *good;
    check_status(npoa_model8_predict(&m, xs, 8, &out, 0), NPOA_ERR_EMPTY_BATCH, "predict 0 rows");

    uint8_t bytes[NPOA_MODEL8_BYTES];
    check_status(npoa_model8_to_bytes(&m, bytes, sizeof bytes - 1, NULL), NPOA_ERR_LENGTH_MISMATCH,
                 "to_bytes short buffer");
    check_status(npoa_model8_to_bytes(&m, bytes, sizeof bytes, NULL), NPOA_OK, "to_bytes");
    check_status(npoa_model8_from_bytes(&m, bytes, sizeof bytes - 1), NPOA_ERR_LENGTH_MISMATCH,
                 "from_bytes truncated");
    npoa_model4 m4;
    check_status(npoa_model4_from_bytes(&m4, bytes, sizeof bytes), NPOA_ERR_FEATURE_MISMATCH,
                 "D = 8 bytes into npoa_model4");
    bytes[NPOA_MODEL8_BYTES / 2] ^= 1;
    check_status(npoa_model8_from_bytes(&m, bytes, sizeof bytes), NPOA_ERR_INVALID_BYTES,
                 "from_bytes flipped bit");
    check(memcmp(&m, good, sizeof m) == 0, "a failed from_bytes leaves the model unchanged");
    uint8_t small[NPOA_MODEL4_BYTES];
    npoa_model4 z4;
    memset(&z4, 0, sizeof z4);
    check_status(npoa_model4_to_bytes(&z4, small, sizeof small, NULL), NPOA_OK, "to_bytes D = 4");
    check_status(npoa_model8_from_bytes(&m, small, sizeof small), NPOA_ERR_FEATURE_MISMATCH,
                 "D = 4 bytes into npoa_model8");

    npoa_online_config oc = npoa_online_config_default();
    npoa_learner8 *l = NULL;
    check_status(npoa_learner8_init(learner_mem, 100, &oc, NULL, &l), NPOA_ERR_BUFFER_TOO_SMALL,
                 "init 100 bytes");
    check_status(npoa_learner8_init((uint8_t *)learner_mem + 4, sizeof learner_mem - 8, &oc, NULL, &l),
                 NPOA_ERR_MISALIGNED, "init misaligned memory");
    check_status(npoa_learner8_init(NULL, sizeof learner_mem, &oc, NULL, &l), NPOA_ERR_NULL, "init NULL");
    oc.holdout_every = 1;
    check_status(npoa_learner8_init(learner_mem, sizeof learner_mem, &oc, NULL, &l),
                 NPOA_ERR_INVALID_PARAMETER, "init holdout_every = 1");
    check(l == NULL, "a failed init leaves the handle NULL");
    memset(learner_mem, 0, sizeof learner_mem);
    npoa_step_report r;
    check_status(npoa_learner8_step((npoa_learner8 *)learner_mem, &r), NPOA_ERR_NOT_INITIALIZED,
                 "step on zeroed memory");
    check_status(npoa_learner8_step(NULL, &r), NPOA_ERR_NULL, "step NULL");
    check(strcmp(npoa_error_message(12345), "unknown status code") == 0, "message of an unknown code");
}

int main(void) {
    npoa_model8 fitted;
    memset(&fitted, 0, sizeof fitted);
    make_linear8();
    fit_squared(&fitted);
    fit_logistic();
    fit_huber();
    online();
    bad_inputs(&fitted);
    printf("%s: %d failure(s)\n", failures ? "FAILED" : "PASSED", failures);
    return failures ? 1 : 0;
}
