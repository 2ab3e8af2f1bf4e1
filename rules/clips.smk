# Expert clip: fetch (URL / local file / shipped clip), then trim to the configured segment.
# Every path is a pattern of vidreward.layout (ClipPaths).


rule fetch_clip:
    input:
        clip_source_input,
    output:
        video=ClipPaths.pattern("raw_video"),
        info=ClipPaths.pattern("fetch_info"),
    log:
        ClipPaths.pattern("fetch_log"),
    # local under a cluster executor: downloads (yt-dlp); compute nodes often have no network
    localrule: True
    conda:
        "../envs/vidreward.yaml"
    params:
        clip=clip_config,
        cache_dir=DOWNLOAD_CACHE_DIR,
    script:
        "../scripts/fetch_clip.py"


rule trim_clip:
    input:
        video=ClipPaths.pattern("raw_video"),
        info=ClipPaths.pattern("fetch_info"),
    output:
        video=ClipPaths.pattern("video"),
        sidecar=ClipPaths.pattern("sidecar"),
    log:
        ClipPaths.pattern("trim_log"),
    conda:
        "../envs/vidreward.yaml"
    params:
        clip=clip_config,
    script:
        "../scripts/trim_clip.py"


rule clip_evidence:
    input:
        video=ClipPaths.pattern("video"),
    output:
        evidence=ClipPaths.pattern("evidence"),
        measurement=directory(ClipPaths.pattern("measurement")),
    log:
        ClipPaths.pattern("evidence_log"),
    conda:
        "../envs/vidreward.yaml"
    script:
        "../scripts/clip_evidence.py"


rule suite_clip:
    output:
        video=SUITE_FILES["video"],
        truth=SUITE_FILES["truth"],
        arrays=SUITE_FILES["truth_arrays"],
    log:
        SUITE_FILES["log"],
    conda:
        "../envs/vidreward.yaml"
    script:
        "../scripts/suite_clip.py"
