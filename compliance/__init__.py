"""compliance: checks Russian industrial sites against government requirements.

Python API (the same as the command line):

    from compliance import load_application, evaluate, eligibility, what_if, parse_assignment
    app = load_application("fixtures/ip794-created-gaps.yaml")
    report = evaluate(app, "ip794")                 # one regime: Report (pydantic), report.verdict, report.findings
    reports = evaluate_all(app, ["ip794", "itp1863"])  # several regimes, sharing the work that does not depend on one
    matrix = eligibility(app)                        # every regime whose input the application carries
    result = what_if(app, "ip794", [parse_assignment("land_plots.1.area.value=30000")])
"""
__version__ = "0.1.0"

from .eligibility import eligibility  # noqa: E402
from .evaluate import evaluate, evaluate_all  # noqa: E402
from .loading import InputError, load_application  # noqa: E402
from .whatif import parse_assignment, what_if  # noqa: E402

__all__ = ["evaluate", "evaluate_all", "eligibility", "what_if", "parse_assignment", "load_application", "InputError"]
