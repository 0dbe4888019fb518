"""The five-order loop as pure rules: states, the transition table, time limits,
ratings and points. Nothing here touches a database, the network or a framework."""
