"""Cost and ETA before launch: audio hours, compute time per stage and storage, from throughputs.

Usage:
    estimate = estimate_cost(Workload(docs_to_embed=9_672_101, natural_speech_hours=141_600,
                                      synthetic_speech_hours=1_416, train_tokens=25.9e9), MEASURED_CPU)
    print(cost_markdown(estimate))
    check_budget(estimate, max_device_hours=500)               # raises CostOverBudget unless override=True
    print(cost_markdown(paper_scale_3b()))                     # the pre-launch check's paper-scale table
    print(cost_markdown(paper_plan(PlanCluster(device_kind="h100", gpus=64, nodes=8))))   # `salad plan`: every stage

Every figure comes from a Throughput with its device and where it came from: `measured` ones are
the Benchmarks section of README.md (this repository's 2-core development machine); the others
are stated assumptions (e.g. training throughput from FLOPs and a utilisation), labelled as such
in the table. Device time is per single device (one 2-core machine, one GPU); wall time divides it
by the devices the stage is given, assuming linear scaling (the pool and shard design allows it;
it is not measured beyond 2 actors); a table's total wall-clock runs its stages one after another.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SECONDS_PER_HOUR = 3600.0
MIMI_FRAME_RATE = 12.5
MIMI_CODEBOOKS = 8


class Throughput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: str
    unit: str = Field(description="work units per second: docs, audio-s, tokens")
    per_second: float = Field(gt=0)
    device: str = Field(description="what one device is, e.g. 'CPU, 2 cores' or 'GPU (H100)'")
    source: str = Field(description="benchmark and README row, or the assumption made")
    measured: bool


# README.md, Benchmarks (2-core development machine, Python 3.11, torch 2.13 CPU)
MEASURED_CPU: dict[str, Throughput] = {
    "embed": Throughput(
        stage="embed",
        unit="docs",
        per_second=13.6,
        device="CPU, 2 cores",
        measured=True,
        source="bench_embed_cluster.py: all-MiniLM-L6-v2, 600 docs, 13.6 docs/s",
    ),
    "tts": Throughput(
        stage="tts",
        unit="audio-s",
        per_second=1 / 0.45,
        device="CPU, 2 cores",
        measured=True,
        source="bench_tts.py --kokoro-random: Kokoro-82M architecture, real-time factor 0.45 (2 threads)",
    ),
    "tts_espeak": Throughput(
        stage="tts_espeak",
        unit="audio-s",
        per_second=1430.0,
        device="CPU, 2 cores",
        measured=True,
        source="bench_tts.py: espeak-ng, Ray pool of 2 actors, 1,430 audio-s per wall-s",
    ),
    "tokenize": Throughput(
        stage="tokenize",
        unit="audio-s",
        per_second=29.2,
        device="CPU, 2 cores",
        measured=True,
        source="bench_mimi.py: Mimi encoder, 2 threads, 6 s clips, 29.2 audio-s/s",
    ),
    "train": Throughput(
        stage="train",
        unit="tokens",
        per_second=2000.0,
        device="CPU, 2 cores",
        measured=True,
        source="field notes: tiny Qwen2 (8k vocabulary) trains at 2k-10k tokens/s; low end taken",
    ),
}


def flops_training_throughput(llm_params: float, adapter_params: float, peak_flops: float, utilisation: float) -> float:
    """Tokens/s of one distillation step: 6·N per token for the trained student (LLM + adapter),
    2·N for the frozen teacher's forward pass, at `utilisation` of the device's peak."""
    flops_per_token = 6.0 * (llm_params + adapter_params) + 2.0 * llm_params
    return peak_flops * utilisation / flops_per_token


class Workload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    docs_to_embed: int = Field(ge=0)
    natural_speech_hours: float = Field(ge=0, description="natural speech to tokenize (Mimi)")
    synthetic_speech_hours: float = Field(ge=0, description="probe + selection to synthesise and tokenize")
    train_tokens: float = Field(ge=0, description="Stage I + Stage II training tokens")
    embedding_dim: int = Field(default=1024, ge=1)
    flac_bytes_per_second: float = Field(default=24_000.0, gt=0, description="24 kHz 16-bit mono FLAC, assumed 2:1 compression")


class StageCost(BaseModel):
    stage: str
    amount: float
    unit: str
    throughput: Throughput
    devices: int
    storage_bytes: float

    @property
    def device_hours(self) -> float:
        """Hours the stage's work takes on one device at its throughput."""
        return self.amount / self.throughput.per_second / SECONDS_PER_HOUR

    @property
    def wall_hours(self) -> float:
        """Device-hours divided over the stage's `devices`, assuming linear scaling."""
        return self.device_hours / self.devices


class CostEstimate(BaseModel):
    stages: list[StageCost]
    assumptions: list[str] = Field(default_factory=list)

    @property
    def device_hours(self) -> float:
        """Device-hours of all stages summed, whatever their device; `cost_markdown` splits them per device."""
        return sum(s.device_hours for s in self.stages)

    @property
    def storage_bytes(self) -> float:
        """Bytes written by all stages together."""
        return sum(s.storage_bytes for s in self.stages)


def estimate_cost(workload: Workload, throughputs: dict[str, Throughput], devices: dict[str, int] | None = None) -> CostEstimate:
    """One row per stage: embed, synthesise, tokenize (natural + synthetic), train."""
    missing = {"embed", "tts", "tokenize", "train"} - set(throughputs)
    if missing:
        raise ValueError(f"throughputs lack the stage(s) {sorted(missing)}")
    devices = {"embed": 1, "tts": 1, "tokenize": 1, "train": 1, **(devices or {})}
    bad = {k: v for k, v in devices.items() if v < 1}
    if bad:
        raise ValueError(f"device counts must be >= 1, got {bad}")
    speech_s = (workload.natural_speech_hours + workload.synthetic_speech_hours) * SECONDS_PER_HOUR
    synthetic_s = workload.synthetic_speech_hours * SECONDS_PER_HOUR
    stages = [
        StageCost(
            stage="embed",
            amount=workload.docs_to_embed,
            unit="docs",
            throughput=throughputs["embed"],
            devices=devices["embed"],
            storage_bytes=workload.docs_to_embed * workload.embedding_dim * 4.0,
        ),
        StageCost(
            stage="tts",
            amount=synthetic_s,
            unit="audio-s",
            throughput=throughputs["tts"],
            devices=devices["tts"],
            storage_bytes=synthetic_s * workload.flac_bytes_per_second,
        ),
        StageCost(
            stage="tokenize",
            amount=speech_s,
            unit="audio-s",
            throughput=throughputs["tokenize"],
            devices=devices["tokenize"],
            storage_bytes=speech_s * MIMI_FRAME_RATE * MIMI_CODEBOOKS * 2.0,
        ),
        StageCost(stage="train", amount=workload.train_tokens, unit="tokens", throughput=throughputs["train"], devices=devices["train"], storage_bytes=0.0),
    ]
    return CostEstimate(stages=stages)


class CostOverBudget(RuntimeError):
    pass


def check_budget(estimate: CostEstimate, max_device_hours: float | None, override: bool = False) -> None:
    """Refuse to launch when the estimate exceeds the budget, unless explicitly overridden."""
    if max_device_hours is None or override or estimate.device_hours <= max_device_hours:
        return
    worst = max(estimate.stages, key=lambda s: s.device_hours)
    raise CostOverBudget(
        f"estimated {estimate.device_hours:,.1f} device-hours exceed the budget of {max_device_hours:,.1f} "
        f"(largest: {worst.stage}, {worst.device_hours:,.1f} h on {worst.throughput.device}); "
        "raise the budget or pass override=True to launch anyway"
    )


def human_bytes(n: float) -> str:
    """`n` bytes in decimal units (1 KB = 1000 B) for the cost table: whole bytes below 1 KB, one decimal above."""
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000.0
    return f"{n:,.1f} PB"


def work(amount: float, unit: str) -> str:
    """A stage's work as a reader counts it: audio-s as hours of audio (minutes or seconds when small,
    never a bare "0 h" beside a non-zero cost), 1e9 tokens or more in billions, else `amount unit`."""
    if unit == "audio-s":
        if amount >= 10 * SECONDS_PER_HOUR:
            return f"{amount / SECONDS_PER_HOUR:,.0f} h of audio"
        if amount >= SECONDS_PER_HOUR:
            return f"{amount / SECONDS_PER_HOUR:.1f} h of audio"
        if amount >= 60:
            return f"{amount / 60:.0f} min of audio"
        return f"{amount:.0f} s of audio"
    if unit == "tokens" and amount >= 1e9:
        return f"{amount / 1e9:,.1f}B tokens"
    return f"{amount:,.0f} {unit}"


def hours(h: float) -> str:
    """Device-hours: whole hours, but a small stage keeps a figure rather than a bare 0."""
    return f"{h:,.0f}" if h >= 10 else f"{h:.2g}"


def duration(h: float) -> str:
    """Wall-clock `h` hours for the table: hours from 1 h, else minutes, and "< 1 min" below a minute."""
    if h >= 1:
        return f"{h:,.1f} h"
    return f"{h * 60:.0f} min" if h * 60 >= 1 else "< 1 min"


def cost_markdown(estimate: CostEstimate) -> str:
    """The estimate as a Markdown table: one row per stage, marked measured or assumed with its source, then a total row
    (device-hours per device, wall-clock of the stages run one after another, storage) and the assumptions."""
    lines = [
        "| stage | work | throughput per device | device | device-hours | devices | wall-clock | storage | figure |",
        "|---|---:|---:|---|---:|---:|---:|---:|---|",
    ]
    for s in estimate.stages:
        t = s.throughput
        lines.append(
            f"| {s.stage} | {work(s.amount, s.unit)} | {t.per_second:,.1f} {t.unit}/s | {t.device} | {hours(s.device_hours)} | "
            f"{s.devices} | {duration(s.wall_hours)} | {human_bytes(s.storage_bytes) if s.storage_bytes else '–'} | "
            f"{'measured' if t.measured else 'assumed'}: {t.source} |"
        )
    per_device: dict[str, float] = {}
    for s in estimate.stages:
        per_device[s.throughput.device] = per_device.get(s.throughput.device, 0.0) + s.device_hours
    totals = "; ".join(f"{d}: {hours(h)}" for d, h in per_device.items())
    wall = sum(s.wall_hours for s in estimate.stages)
    lines.append(f"| **total** | | | | **{totals}** | | **{duration(wall)}** | **{human_bytes(estimate.storage_bytes)}** | |")
    if estimate.assumptions:
        lines += ["", "Assumptions:", *[f"- {a}" for a in estimate.assumptions]]
    return "\n".join(lines) + "\n"


# FineWeb-Edu sample/10BT: 9,672,101 documents (its dataset card); bge-large-en-v1.5 is 335M
# parameters against all-MiniLM-L6-v2's 22.7M, and embedding cost scales with parameters per token.
FINEWEB_10BT_DOCS = 9_672_101
BGE_LARGE_OVER_MINILM = 335.0 / 22.7
QWEN25_3B_PARAMS, ADAPTER_PARAMS = 3.09e9, 0.122e9
H100_BF16_PEAK, ASSUMED_UTILISATION = 989e12, 0.40


def paper_scale_3b(gpus: int = 64, cpu_machines: int = 64) -> CostEstimate:
    """The 3b preset at paper scale: 141.6k h natural speech, FineWeb-Edu 10BT, 24B + 1.9B tokens."""
    embed_cpu = MEASURED_CPU["embed"]
    throughputs = {
        "embed": Throughput(
            stage="embed",
            unit="docs",
            per_second=embed_cpu.per_second / BGE_LARGE_OVER_MINILM,
            device="CPU, 2 cores",
            measured=False,
            source=f"MiniLM's measured 13.6 docs/s ÷ {BGE_LARGE_OVER_MINILM:.1f} (bge-large / MiniLM parameters)",
        ),
        "tts": MEASURED_CPU["tts"],
        "tokenize": MEASURED_CPU["tokenize"],
        "train": Throughput(
            stage="train",
            unit="tokens",
            per_second=flops_training_throughput(QWEN25_3B_PARAMS, ADAPTER_PARAMS, H100_BF16_PEAK, ASSUMED_UTILISATION),
            device="GPU (H100)",
            measured=False,
            source="8·N FLOPs per token (student 6·N incl. adapter, teacher 2·N) at 40% of 989 TFLOP/s bf16",
        ),
    }
    workload = Workload(
        docs_to_embed=FINEWEB_10BT_DOCS,
        natural_speech_hours=141_600.0,
        synthetic_speech_hours=1_416.0 + 128 * 32 * 20 / 3600,
        train_tokens=24e9 + 1.9e9,
        embedding_dim=1024,
    )
    estimate = estimate_cost(workload, throughputs, {"embed": cpu_machines, "tts": cpu_machines, "tokenize": cpu_machines, "train": gpus})
    estimate.assumptions = [
        "No GPU was lent to this project, so every speech and embedding figure is a CPU figure measured here (2-core machine); "
        "GPU runs of bench_mimi.py / bench_tts.py / bench_embed_cluster.py replace them when one is available.",
        "Synthetic speech: 1% of the natural hours (1,416 h, the paper's budget) plus the probe, 128 clusters × 32 texts × ~20 s.",
        "Kokoro's speed was measured with random weights (same architecture and FLOPs as the real ones).",
        f"Embedding with bge-large-en-v1.5 costs {BGE_LARGE_OVER_MINILM:.1f}× MiniLM per document (parameter ratio), not measured.",
        "Training throughput is not measured: FLOPs per token of Qwen2.5-3B (3.09B) + adapter (122M) at an assumed 40% utilisation of an H100.",
        f"Wall-clock assumes linear scaling over {cpu_machines} 2-core machines (CPU stages) and {gpus} GPUs (training).",
        "Storage: embeddings float32 × 1024; synthetic audio FLAC at ~24 kB/s (2:1); Mimi codes int16 × 8 codebooks × 12.5 Hz (200 B/s), before Parquet compression.",
    ]
    return estimate


# ------------------------------------------------------------------------------ paper-scale plan
# `salad plan` (deployments/plan_cli.py): every stage of the method at paper scale on a cluster of
# one device kind. Only the CPU figures are measured here (README, Benchmarks); GPU figures are
# FLOPs counted here (torch.utils.flop_counter on the models of this repository) at an assumed
# utilisation, or published estimates, and every row says which.

DeviceKind = Literal["cpu", "a100", "h100", "h200"]
# dense bf16 peak per GPU (NVIDIA datasheets, SXM); the H200 has the H100's compute and more memory bandwidth
GPU_PEAK_BF16: dict[str, float] = {"a100": 312e12, "h100": 989e12, "h200": 989e12}
GPU_NAME = {"a100": "GPU (A100)", "h100": "GPU (H100)", "h200": "GPU (H200)"}
# counted here with torch.utils.flop_counter: Mimi encoder (moshi's Mimi, 10 s at 24 kHz), bge-large
# architecture (BERT-large, 24 x 1024) at 512 positions
MIMI_FLOPS_PER_AUDIO_S = 5.32e9
BGE_LARGE_FLOPS_PER_TOKEN = 0.604e9
# FineWeb-Edu 10BT: 10B GPT-2 tokens over 9,672,101 documents ≈ 1,034 tokens; bge's WordPiece ≈ 1,100,
# embedded whole in 512-token windows (configs/3b.yaml long_documents: window); MiniLM truncates at 256.
BGE_TOKENS_PER_DOC, MINILM_TOKENS_PER_DOC = 1_100, 256
# bench_train.py: 1,193 positions/s, 1 thread, tiny teacher 1.9M + adapter 3.3M -> effective FLOP/s of one core
TINY_LLM_PARAMS, TINY_ADAPTER_PARAMS, TINY_TRAIN_POSITIONS_PER_S = 1.9e6, 3.3e6, 1_193.0
CPU_FLOPS_PER_CORE = TINY_TRAIN_POSITIONS_PER_S * (6.0 * (TINY_LLM_PARAMS + TINY_ADAPTER_PARAMS) + 2.0 * TINY_LLM_PARAMS)
ASSUMED_UTILISATION_FORWARD, ASSUMED_UTILISATION_BGE, ASSUMED_UTILISATION_MIMI = 0.40, 0.30, 0.02
KOKORO_H100_AUDIO_S = 200.0  # estimate: 4 actors per GPU (configs/3b.yaml) at ~50x real time each
INGEST_AUDIO_S_PER_CORE = 200.0  # estimate: FLAC/mp3 decode + 16 -> 24 kHz resample + FLAC encode, one core
SELECT_DOCS_PER_CORE = 11_000.0  # bench_selection.py: speakable cuts, low end of 11-23k docs/s (1 thread)
# the 3b preset (TrainConfig.preset("3b")): checkpoints every 1,000 steps, + pre-decay + final
STAGE1_STEPS, STAGE2_STEPS, SAVE_EVERY, STAGE1_PRE_DECAY = 24_000, 1_900, 1_000, 19_200
# spoken benchmarks (configs/3b.yaml): StoryCloze 1,871 + MMSU 3,074 + OBQA 500 + HellaSwag 10,042 + ARC-C 1,172 + PIQA 1,838
EVAL_ITEMS, EVAL_OPTIONS_PER_ITEM, EVAL_POSITIONS, EVAL_AUDIO_S_PER_ITEM = 18_497, 3.5, 1_500, 15.0
PROBE_TEXTS, PROBE_AUDIO_S, PROBE_POSITIONS = 128 * 32, 20.0, 512


class PlanCluster(BaseModel):
    """The cluster a plan is for: `gpus` accelerators over `nodes` machines (cpu: `nodes` 2-core machines)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    device_kind: DeviceKind = "h100"
    gpus: int = Field(64, ge=1)
    nodes: int = Field(8, ge=1)
    cpu_cores_per_node: int = Field(32, ge=1, description="Cores per GPU node for the CPU stages (ingest, clustering).")

    @model_validator(mode="after")
    def _even(self) -> "PlanCluster":
        if self.device_kind != "cpu" and self.gpus % self.nodes:
            raise ValueError(f"{self.gpus} GPUs do not split evenly over {self.nodes} nodes")
        return self

    @property
    def devices(self) -> int:
        """Accelerators (GPU kinds) or 2-core machines (cpu) the parallel stages are spread over."""
        return self.nodes if self.device_kind == "cpu" else self.gpus

    @property
    def cores(self) -> int:
        """CPU cores for the CPU stages: 2 per machine (cpu) or `cpu_cores_per_node` per GPU node."""
        return self.nodes * (2 if self.device_kind == "cpu" else self.cpu_cores_per_node)


def _forward_per_s(params: float, flops_per_s: float, passes: float) -> float:
    """Positions/s of `passes` forward passes of a `params` model (2·N FLOPs each)."""
    return flops_per_s / (2.0 * params * passes)


def device_throughputs(kind: DeviceKind) -> dict[str, Throughput]:
    """Per-device throughput of every device stage: measured on this machine for cpu, assumed for GPUs."""
    t = Throughput
    train_flops_per_token = 6.0 * (QWEN25_3B_PARAMS + ADAPTER_PARAMS) + 2.0 * QWEN25_3B_PARAMS
    if kind == "cpu":
        cpu, flops = "CPU, 2 cores", 2 * CPU_FLOPS_PER_CORE
        ratio = BGE_LARGE_OVER_MINILM * BGE_TOKENS_PER_DOC / MINILM_TOKENS_PER_DOC
        src_flops = f"{flops / 1e9:.0f} GFLOP/s: bench_train.py's measured 1,193 positions/s of the tiny model on 1 thread, x 2 cores"
        return {
            "embed": t(
                stage="embed",
                unit="docs",
                per_second=MEASURED_CPU["embed"].per_second / ratio,
                device=cpu,
                measured=False,
                source=f"MiniLM's measured 13.6 docs/s ÷ {ratio:.0f} (bge-large/MiniLM parameters x {BGE_TOKENS_PER_DOC}/{MINILM_TOKENS_PER_DOC} tokens per doc)",
            ),
            "tts": MEASURED_CPU["tts"],
            "tokenize": MEASURED_CPU["tokenize"],
            "score": t(
                stage="score",
                unit="positions",
                per_second=_forward_per_s(QWEN25_3B_PARAMS, flops, 2),
                device=cpu,
                measured=False,
                source=f"2 forward passes of 3.09B params (2·N FLOPs each) at {src_flops}",
            ),
            "train": t(
                stage="train", unit="tokens", per_second=flops / train_flops_per_token, device=cpu, measured=False, source=f"8·N FLOPs per token at {src_flops}"
            ),
        }
    gpu, peak = GPU_NAME[kind], GPU_PEAK_BF16[kind]
    scale = peak / GPU_PEAK_BF16["h100"]
    peak_txt = f"{peak / 1e12:,.0f} TFLOP/s bf16"
    return {
        "embed": t(
            stage="embed",
            unit="docs",
            per_second=peak * ASSUMED_UTILISATION_BGE / (BGE_LARGE_FLOPS_PER_TOKEN * BGE_TOKENS_PER_DOC),
            device=gpu,
            measured=False,
            source=f"bge-large {BGE_LARGE_FLOPS_PER_TOKEN / 1e9:.3f} GFLOP/token (counted here) x {BGE_TOKENS_PER_DOC:,} "
            f"tokens/doc at {ASSUMED_UTILISATION_BGE:.0%} of {peak_txt}",
        ),
        "tts": t(
            stage="tts",
            unit="audio-s",
            per_second=KOKORO_H100_AUDIO_S * scale,
            device=gpu,
            measured=False,
            source=f"not measured: Kokoro-82M, 4 actors per GPU at ~50x real time each on an H100{'' if scale == 1 else f', x {scale:.2f} (peak ratio)'}",
        ),
        "tokenize": t(
            stage="tokenize",
            unit="audio-s",
            per_second=peak * ASSUMED_UTILISATION_MIMI / MIMI_FLOPS_PER_AUDIO_S,
            device=gpu,
            measured=False,
            source=f"Mimi encoder {MIMI_FLOPS_PER_AUDIO_S / 1e9:.2f} GFLOP per audio-s (counted here) at {ASSUMED_UTILISATION_MIMI:.0%} of {peak_txt} "
            "(small-channel convolutions, FLAC decode on the host)",
        ),
        "score": t(
            stage="score",
            unit="positions",
            per_second=_forward_per_s(QWEN25_3B_PARAMS, peak * ASSUMED_UTILISATION_FORWARD, 2),
            device=gpu,
            measured=False,
            source=f"2 forward passes of 3.09B params (2·N FLOPs each) at {ASSUMED_UTILISATION_FORWARD:.0%} of {peak_txt}",
        ),
        "train": t(
            stage="train",
            unit="tokens",
            per_second=flops_training_throughput(QWEN25_3B_PARAMS, ADAPTER_PARAMS, peak, ASSUMED_UTILISATION),
            device=gpu,
            measured=False,
            source=f"8·N FLOPs per token (student 6·N incl. adapter, teacher 2·N) at {ASSUMED_UTILISATION:.0%} of {peak_txt}",
        ),
    }


def checkpoint_bytes(params: float = QWEN25_3B_PARAMS + ADAPTER_PARAMS) -> float:
    """One stored checkpoint: bf16 student weights (2 B/param) + ZeRO engine state (bf16 weights 2, fp32
    master 4, Adam moments 8: 14 B/param)."""
    return params * (2.0 + 14.0)


def n_checkpoints(steps: int, save_every: int, pre_decay: int | None) -> int:
    """As salad_core.training.trainer.checkpoint_steps: periodic, pre-decay, final."""
    kinds = set(range(save_every, steps, save_every)) | {steps}
    if pre_decay is not None and 0 < pre_decay < steps:
        kinds.add(pre_decay)
    return len(kinds)


def paper_plan(cluster: PlanCluster) -> CostEstimate:
    """Every stage of SALAD-3B at paper scale on `cluster`, in the flow's order (wall = one after another)."""
    tp = device_throughputs(cluster.device_kind)
    natural_s, selection_s = 141_600.0 * SECONDS_PER_HOUR, 1_416.0 * SECONDS_PER_HOUR
    probe_s, eval_s = PROBE_TEXTS * PROBE_AUDIO_S, EVAL_ITEMS * EVAL_AUDIO_S_PER_ITEM
    docs, n, cores = FINEWEB_10BT_DOCS, cluster.devices, cluster.cores
    core = "CPU core"
    ingest = Throughput(
        stage="ingest",
        unit="audio-s",
        per_second=INGEST_AUDIO_S_PER_CORE,
        device=core,
        measured=False,
        source="not benchmarked: decode (FLAC/mp3) + resample 16 -> 24 kHz + FLAC encode, 200x real time per core",
    )
    fit_flops = 2.0 * (25 * 1_000_000 + docs) * 1024 * 128  # faiss: 25 iterations on 1M vectors, then assign all docs
    cluster_tp = Throughput(
        stage="cluster",
        unit="docs",
        per_second=docs * CPU_FLOPS_PER_CORE / fit_flops,
        device=core,
        measured=False,
        source="k-means FLOPs (fit 1M x 1024, K = 128, 25 iterations; assign 9.7M) at the measured per-core rate of bench_train.py",
    )
    select = Throughput(
        stage="select",
        unit="docs",
        per_second=SELECT_DOCS_PER_CORE,
        device=core,
        measured=True,
        source="bench_selection.py: speakable cuts, 11-23k docs/s on 1 thread (low end); pools and γ-draws are ~1M/s",
    )
    codes = MIMI_FRAME_RATE * MIMI_CODEBOOKS * 2.0
    flac = Workload.model_fields["flac_bytes_per_second"].default
    gpu_sto = lambda stage, amount, unit, kind, storage: StageCost(  # noqa: E731
        stage=stage, amount=amount, unit=unit, throughput=tp[kind], devices=n, storage_bytes=storage
    )
    stages = [
        StageCost(
            stage="ingest natural speech (LibriHeavy + Emilia)",
            amount=natural_s,
            unit="audio-s",
            throughput=ingest,
            devices=cores,
            storage_bytes=natural_s * flac,
        ),
        gpu_sto("tokenize natural speech (Mimi)", natural_s, "audio-s", "tokenize", natural_s * codes),
        gpu_sto("embed FineWeb-Edu 10BT (bge-large)", docs, "docs", "embed", docs * 1024 * 4.0),
        StageCost(
            stage="cluster (K = 128)", amount=docs, unit="docs", throughput=cluster_tp, devices=cluster.cores // cluster.nodes, storage_bytes=docs * 16.0
        ),
        StageCost(stage="select probe + selection texts", amount=docs, unit="docs", throughput=select, devices=1, storage_bytes=(probe_s + selection_s) * 15.0),
        gpu_sto("probe synthesis (Kokoro, 128 x 32)", probe_s, "audio-s", "tts", probe_s * flac),
        gpu_sto("Stage I (24B tokens)", 24e9, "tokens", "train", n_checkpoints(STAGE1_STEPS, SAVE_EVERY, STAGE1_PRE_DECAY) * checkpoint_bytes()),
        gpu_sto("tokenize probe speech (Mimi)", probe_s, "audio-s", "tokenize", probe_s * codes),
        gpu_sto("M(c) on the probe (pre-decay checkpoint)", PROBE_TEXTS * PROBE_POSITIONS, "positions", "score", 0.0),
        gpu_sto("selection synthesis (1% of speech hours)", selection_s, "audio-s", "tts", selection_s * flac),
        gpu_sto("tokenize selected speech (Mimi)", selection_s, "audio-s", "tokenize", selection_s * codes),
        gpu_sto("Stage II (1.9B tokens)", 1.9e9, "tokens", "train", n_checkpoints(STAGE2_STEPS, SAVE_EVERY, None) * checkpoint_bytes()),
        gpu_sto("evaluation: speak 6 benchmarks", eval_s, "audio-s", "tts", eval_s * flac),
        gpu_sto("tokenize benchmark speech (Mimi)", eval_s, "audio-s", "tokenize", eval_s * codes),
        # 3 forward passes per option (teacher text, student text, student speech) = 1.5 x the 2-pass "score" rate
        gpu_sto("evaluation: score 3 ways", EVAL_ITEMS * EVAL_OPTIONS_PER_ITEM * EVAL_POSITIONS * 1.5, "positions", "score", 0.0),
    ]
    kind = cluster.device_kind
    where = "2-core machines" if kind == "cpu" else f"x {GPU_NAME[kind]} ({cluster.gpus // cluster.nodes} per node)"
    return CostEstimate(
        stages=stages,
        assumptions=[
            f"Cluster: {cluster.devices} {where} over {cluster.nodes} node(s); CPU stages use {cores} cores "
            f"({'2' if kind == 'cpu' else cluster.cpu_cores_per_node} per node), clustering one node's cores, text selection one core.",
            "Measured here: the CPU figures of README.md's Benchmarks section (2-core machine, load noted there): Mimi 29.2 audio-s/s, "
            "Kokoro RTF 0.45 (random weights, same architecture), speakable cuts 11k docs/s, the tiny-model training rate.",
            "No GPU was lent to this project: every GPU figure is an assumption — FLOPs counted here on this repository's models "
            "(Mimi 5.32 GFLOP per audio-s, bge-large 0.604 GFLOP per token) at an assumed share of the datasheet bf16 peak "
            f"(Mimi {ASSUMED_UTILISATION_MIMI:.0%}, bge {ASSUMED_UTILISATION_BGE:.0%}, training and scoring {ASSUMED_UTILISATION:.0%}), "
            "or an estimate (Kokoro 200 audio-s/s per H100). `bench_mimi.py --device cuda`, `bench_tts.py` and "
            "`bench_embed_cluster.py` on a GPU replace them."
            + (" The H200 is credited with the H100's compute; its larger, faster memory is not counted." if kind == "h200" else ""),
            "Wall-clock divides device-hours by the devices, assuming linear scaling (measured only up to 2 actors); "
            "the total runs the stages one after another, as the flow does.",
            "Work: 141.6k h natural speech; 1,416 h selected (1%); probe 128 x 32 texts x ~20 s; 9,672,101 documents of ~1,100 "
            "tokens embedded in 512-token windows; evaluation 18,497 items (StoryCloze, MMSU, OBQA, HellaSwag, ARC-C, PIQA) "
            "x ~3.5 options x ~1,500 positions x 3 ways (teacher text, student text, student speech), ~15 s of speech per item.",
            "Storage: 24 kHz FLAC at ~24 kB/s; Mimi codes int16 x 8 x 12.5 Hz (200 B/s); embeddings float32 x 1024; "
            f"{checkpoint_bytes() / 1e9:,.0f} GB per checkpoint (bf16 weights + ZeRO state, 16 B/param), every 1,000 steps + "
            "pre-decay + final (salad artifacts gc keeps what you choose); before Parquet compression.",
            "Not modelled: the optional ASR pass of the quality gate, teacher preparation, data transfer to and from S3.",
        ],
    )
