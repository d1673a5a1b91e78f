import ArcSilver

