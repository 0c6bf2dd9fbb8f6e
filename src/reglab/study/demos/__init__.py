"""The shipped studies (TOML specs, listed by :data:`reglab.study.demo.DEMOS`) and the
small user modules some of them name (``module = "reglab.study.demos.NAME:factory"``)."""
