function mpc = case3_mpc
%CASE3_MPC  3-bus test case in MATPOWER format (hand-written for the loader test).
%   Bus 1 slack, bus 2 PV, bus 3 PQ; 100 MVA base; 138 kV.

%% MATPOWER Case Format : Version 2
mpc.version = '2';

%%-----  Power Flow Data  -----%%
%% system MVA base
mpc.baseMVA = 100;

%% bus data
%	bus_i	type	Pd	Qd	Gs	Bs	area	Vm	Va	baseKV	zone	Vmax	Vmin
mpc.bus = [
	1	3	0	0	0	0	1	1.02	0	138	1	1.06	0.94;
	2	2	20	5	0	0	1	1.01	0	138	1	1.06	0.94;
	3	1	90	30	0	0	1	1	0	138	1	1.06	0.94;
];

%% generator data
%	bus	Pg	Qg	Qmax	Qmin	Vg	mBase	status	Pmax	Pmin
mpc.gen = [
	1	0	0	300	-300	1.02	100	1	250	10;
	2	60	0	100	-100	1.01	100	1	100	10;
];

%% branch data
%	fbus	tbus	r	x	b	rateA	rateB	rateC	ratio	angle	status	angmin	angmax
mpc.branch = [
	1	2	0.01	0.085	0.088	250	250	250	0	0	1	-360	360;
	1	3	0.017	0.092	0.079	250	250	250	0	0	1	-360	360;
	2	3	0.039	0.17	0.179	150	150	150	0	0	1	-360	360;
];
