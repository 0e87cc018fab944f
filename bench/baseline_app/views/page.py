"""One baseline page: a heading, a 50-row table and a 12-bar plotly chart."""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st


def draw(title: str, seed: int) -> None:
    st.title(title)
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "segment": [f"Segment {i}" for i in range(50)],
            "units": rng.integers(100, 5000, 50),
            "returned": rng.integers(0, 100, 50),
        }
    )
    df["rate"] = df["returned"] / df["units"]
    fig = go.Figure(go.Bar(x=df["segment"].head(12), y=df["rate"].head(12)))
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=30, b=10), title=f"{title}: return rate")
    st.plotly_chart(fig, key=f"chart-{seed}")
    st.dataframe(df, hide_index=True)
