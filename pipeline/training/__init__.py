"""Building the shipped models (`make models`) and the synthetic pages they
and the benchmarks are made from. Not part of the runtime wheel."""
