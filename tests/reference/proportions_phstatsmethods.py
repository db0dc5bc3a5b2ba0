import random, csv
import pandas as pd
from PHStatsMethods.confidence_intervals import wilson_lower, wilson_upper
from PHStatsMethods.utils_funnel import sigma_adjustment
from PHStatsMethods.funnels import assign_funnel_significance
random.seed(2026)
rows = []
for group in range(12):
    p = random.uniform(0.02, 0.97)
    k = random.randint(8, 40)
    for i in range(k):
        d = random.choice([random.randint(1, 60), random.randint(60, 2000), random.randint(2000, 90000)])
        share = min(max(random.gauss(p, 0.08 if random.random() < 0.7 else 0.25), 0), 1)
        n = round(share * d)
        if group == 0 and i == 0: n = 0
        if group == 0 and i == 1: n = d
        rows.append({"group": group, "numerator": n, "denominator": d})
df = pd.DataFrame(rows)
out = []
for g, part in df.groupby("group"):
    part = part.copy()
    sig = assign_funnel_significance(part, "numerator", "proportion", denom_col="denominator")
    av = part["numerator"].sum() / part["denominator"].sum()
    for (_, r), s in zip(part.iterrows(), sig["significance"]):
        n, d = int(r["numerator"]), int(r["denominator"])
        out.append({
            "group": g, "numerator": n, "denominator": d, "pooled": av,
            "ci95_lower": 100 * wilson_lower(n, d, 0.95), "ci95_upper": 100 * wilson_upper(n, d, 0.95),
            "ci998_lower": 100 * wilson_lower(n, d, 0.998), "ci998_upper": 100 * wilson_upper(n, d, 0.998),
            "lower_95": max(0, sigma_adjustment(0.975, d, av, "low", 100)), "upper_95": min(100, sigma_adjustment(0.975, d, av, "high", 100)),
            "lower_998": max(0, sigma_adjustment(0.999, d, av, "low", 100)), "upper_998": min(100, sigma_adjustment(0.999, d, av, "high", 100)),
            "significance": s,
        })
with open("proportions_phstatsmethods.csv", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(out[0].keys()))
    w.writeheader()
    for r in out:
        w.writerow({k: (repr(float(v)) if not isinstance(v, (str, int)) or isinstance(v, float) else v) for k, v in r.items()})
print(len(out), pd.Series([r["significance"] for r in out]).value_counts().to_dict())
