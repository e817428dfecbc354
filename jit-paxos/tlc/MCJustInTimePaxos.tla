---- MODULE MCJustInTimePaxos ----
\* The model of JustInTimePaxos.tla (kuujo/just-in-time-paxos, commit 9b28ff9) that the
\* jit-paxos crate reproduces: the spec bounded by its own messageCount.
EXTENDS JustInTimePaxos

\* N: the most messages counted over a behaviour (the crate's --max-message-count).
CONSTANT MaxMessageCount

MessageCountConstraint == messageCount <= MaxMessageCount
====
