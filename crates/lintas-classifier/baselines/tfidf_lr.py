#!/usr/bin/env python3
"""Baseline (b): a standard TF-IDF (word 1-2 + char_wb 3-5) logistic regression.

Trained on the same data as the shipped model (the dev set's train split plus
data/own_labeled.jsonl) and scored on the same held-out split, text only (the rows carry no
event metadata), with scikit-learn's macro-F1 overall, per language and per source.

    pip install scikit-learn
    python3 crates/lintas-classifier/baselines/tfidf_lr.py \
        ../shared/eval/interactions_eval.dev.jsonl crates/lintas-classifier/data/own_labeled.jsonl

The split is the one of `lintas_classifier::data::split_of`: FNV-1a 64 of the id's UTF-8
bytes, modulo 100, below 30 is held out.
"""
import json
import sys

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import FeatureUnion, make_pipeline

HELDOUT_PERCENT = 30


def fnv1a64(data: bytes) -> int:
    value = 0xCBF29CE484222325
    for byte in data:
        value ^= byte
        value = (value * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


def is_heldout(row_id: str) -> bool:
    return fnv1a64(row_id.encode("utf-8")) % 100 < HELDOUT_PERCENT


def read(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def pipeline():
    features = FeatureUnion(
        [
            ("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)),
        ]
    )
    classifier = LogisticRegression(max_iter=2000, C=10.0, class_weight="balanced")
    return make_pipeline(features, classifier)


def scores(rows, predicted, field):
    gold = [row[field] for row in rows]
    return accuracy_score(gold, predicted), f1_score(gold, predicted, average="macro")


def main():
    dev = read(sys.argv[1])
    own = read(sys.argv[2]) if len(sys.argv) > 2 else []
    train = [row for row in dev if not is_heldout(row["id"])] + own
    heldout = [row for row in dev if is_heldout(row["id"])]
    texts = [row["text"] for row in train]
    predictions = {}
    for field in ("interaction_type", "journey_stage"):
        model = pipeline().fit(texts, [row[field] for row in train])
        predictions[field] = list(model.predict([row["text"] for row in heldout]))
    slices = [("overall", lambda row: True)]
    for key in ("lang", "source"):
        for value in sorted({row[key] for row in heldout}):
            slices.append((f"{key}={value}", lambda row, key=key, value=value: row[key] == value))
    print(f"{'slice':<22} {'rows':>6}  {'type acc':>9} {'type F1':>9}  {'stage acc':>9} {'stage F1':>9}")
    for name, keep in slices:
        chosen = [index for index, row in enumerate(heldout) if keep(row)]
        rows = [heldout[index] for index in chosen]
        line = f"{name:<22} {len(rows):>6}"
        for field in ("interaction_type", "journey_stage"):
            predicted = [predictions[field][index] for index in chosen]
            accuracy, macro_f1 = scores(rows, predicted, field)
            line += f"  {accuracy:>9.3f} {macro_f1:>9.3f}"
        print(line)


if __name__ == "__main__":
    main()
